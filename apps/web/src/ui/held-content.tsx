import type { HeldItem } from "@veil/sdk";
import { useImage } from "./use-image.js";

/**
 * What a held change would publish: text, new name or description, poll,
 * link, files. With `loadMedia`, its images are shown too (the files come
 * with the bearer token, so through object URLs).
 */
export function HeldContent(props: {
  item: HeldItem;
  loadMedia?: (mediaId: string) => Promise<Uint8Array>;
}) {
  const { item, loadMedia } = props;
  const files = item.kind === "post" ? item.media.length : 0;
  return (
    <div className="held-content">
      {item.text && <p className="quoted-text">{item.text}</p>}
      {item.name !== null && <p>New name: {item.name}</p>}
      {item.description !== null && <p>New description: {item.description}</p>}
      {item.poll && (
        <p>
          Poll: {item.poll.question}{" "}
          <span className="muted">({item.poll.options.join(" / ")})</span>
        </p>
      )}
      {item.preview && (
        <p>
          Link: {item.preview.title || item.preview.url}{" "}
          <span className="muted">{item.preview.url}</span>
        </p>
      )}
      {files > 0 && (
        <p className="muted">
          {files} {files === 1 ? "file" : "files"} attached
        </p>
      )}
      {item.kind === "photo" && <p className="muted">A new channel photo.</p>}
      {loadMedia && item.media.length > 0 && (
        <div className="held-media">
          {item.media.map((id, i) => (
            <HeldFile key={id} id={id} index={i} load={() => loadMedia(id)} />
          ))}
        </div>
      )}
    </div>
  );
}

function HeldFile(props: { id: string; index: number; load: () => Promise<Uint8Array> }) {
  const url = useImage(`held:${props.id}`, props.load);
  if (!url) return null;
  return (
    <a href={url} target="_blank" rel="noreferrer">
      <img className="held-image" src={url} alt={`Held file ${props.index + 1}`} />
    </a>
  );
}
