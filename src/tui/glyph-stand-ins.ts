import stringWidth from "string-width";

// ASCII stand-ins for the cockpit's own glyphs, swapped back as Ink writes.
//
// Ink measures every Text's content with string-width on every frame. A text
// of printable ASCII costs under a microsecond; a single "✓" costs ~10 µs and
// a 40-cell sparkline ~130 µs, because any other character sends the whole
// text through Unicode segmentation and emoji matching. A frame has dozens of
// such texts. So a run made only of the glyphs below is handed to Ink as
// letters (same count, and every glyph here is one column, as each letter is),
// inside an Ink <Transform> that turns the letters back into the glyphs when
// the line is written. Layout, clipping and colours see the same widths either
// way; only the cost of measuring changes.

const GLYPHS = "…✗✓—·⚠→›■⊘‖▣□▌█─↩↕↑✖◷○▸▶░│↺↓”“●◌◇▲▏▎▍▋▊▉▇▆▅▄▃▂▁┘└┐┌⋯↻←•×±◆";
const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const toLetter = new Map<string, string>();
const toGlyph = new Map<string, string>();
for (const g of GLYPHS) {
  // Only a glyph string-width counts as exactly one column stands in for a letter (one column).
  if (toLetter.has(g) || stringWidth(g) !== 1 || toLetter.size >= LETTERS.length) continue;
  const letter = LETTERS[toLetter.size]!;
  toLetter.set(g, letter);
  toGlyph.set(letter, g);
}

/** The run as letters, or null when a character in it has no stand-in. */
export function encodeGlyphs(run: string): string | null {
  let out = "";
  for (const c of run) {
    const letter = toLetter.get(c);
    if (letter === undefined) return null;
    out += letter;
  }
  return out;
}

/**
 * Letters back to glyphs in a line as Ink writes it, which may hold the SGR
 * codes of the run's colour and weight: escape sequences pass through as they are.
 */
export function decodeGlyphs(line: string): string {
  let out = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "\x1b") {
      // ESC [ parameters final-byte (0x40-0x7e); anything else after ESC is copied as is.
      let j = i + 1;
      if (line[j] === "[") {
        j++;
        while (j < line.length && !(line.charCodeAt(j) >= 0x40 && line.charCodeAt(j) <= 0x7e)) j++;
      }
      out += line.slice(i, j + 1);
      i = j;
      continue;
    }
    out += toGlyph.get(c) ?? c;
  }
  return out;
}
