import { useEffect, useState } from "react";

/** Object URLs of images already fetched, by key (a photo id, or a path), for the page's life. */
const urls = new Map<string, Promise<string | null>>();

/**
 * An image the API serves behind the bearer token (an <img> cannot send it):
 * fetched once per key, shown from an object URL. Null while loading, or when
 * the server has no image for this viewer (the privacy rules said no).
 */
export function useImage(
  key: string | null | undefined,
  load: () => Promise<Uint8Array>,
): string | null {
  const [url, setUrl] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key names what `load` fetches
  useEffect(() => {
    let live = true;
    setUrl(null);
    if (!key) return;
    let entry = urls.get(key);
    if (!entry) {
      entry = load().then(
        (bytes) => URL.createObjectURL(new Blob([bytes as BlobPart])),
        () => null,
      );
      urls.set(key, entry);
    }
    void entry.then((u) => live && setUrl(u));
    return () => {
      live = false;
    };
  }, [key]);
  return url;
}
