const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/** Code points an emoji is made of: pictographs, skin tones, ZWJ, VS16, keycap, tags, flags. */
const emojiPart = /^[\p{Extended_Pictographic}\p{Emoji_Component}]+$/u;
const pictograph = /\p{Extended_Pictographic}/u;
const flag = /^\p{Regional_Indicator}{2}$/u;
const keycap = /^[0-9#*]\uFE0F?\u20E3$/u;

/**
 * Whether `text` is exactly one emoji: one grapheme that is a pictograph
 * (with its skin tones, ZWJ sequence or tag sequence), a flag (two regional
 * indicators) or a keycap (`1️⃣`). Letters, spaces, two emoji, a lone
 * regional indicator or a bare digit are not.
 */
export function isSingleEmoji(text: string): boolean {
  const segments = [...graphemes.segment(text)];
  if (segments.length !== 1) return false;
  const grapheme = segments[0]?.segment ?? "";
  if (keycap.test(grapheme) || flag.test(grapheme)) return true;
  return emojiPart.test(grapheme) && pictograph.test(grapheme) && !/^[0-9#*]/u.test(grapheme);
}
