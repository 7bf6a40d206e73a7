// Blameless review: phrases that point at a person rather than at the system
// are listed for the authors to reconsider. The notes themselves are never
// rewritten: a draft that silently edits what people wrote would not be trusted.

export interface BlameFinding {
  /** the phrase as written in the note */
  phrase: string;
  /** seq of the event holding the note */
  seq: number;
  /** the words around the phrase, on one line */
  excerpt: string;
}

export interface LintInput {
  seq: number;
  text: string;
}

// Each pattern carries its own guard against the common blameless uses:
// "blameless", "fault-tolerant", "fault injection".
const BLAME_PATTERNS: readonly RegExp[] = [
  /\bhuman[ -]errors?\b/gi,
  /\bshould(?:n't| not)? have\b/gi,
  /\bshould've\b/gi,
  /\bcareless(?:ly|ness)?\b/gi,
  /\bfault(?![ -]?(?:toleran|injection|domain|isolation|line|s? (?:in|on) the))\b/gi,
  /\b(?:to )?blam(?:e|ed|es|ing)\b(?!less)/gi,
  /\bif only\b/gi,
  /\bnegligen(?:t|ce|tly)\b/gi,
  /\bdid(?:n't| not) bother\b/gi,
  /\bstupid(?:ity)?\b/gi,
  /\bwhy did(?:n't| not)\b/gi,
  /\bincompeten(?:t|ce)\b/gi,
  /\bsloppy\b/gi,
  /\blazy\b/gi,
  /\b(?:idiot(?:ic)?|dumb)\b/gi,
  /\bobviously\b/gi,
  /\bmessed up\b/gi,
  /\bscrewed up\b/gi,
  /\bforgot to\b/gi,
];

const EXCERPT_RADIUS = 40;

function excerptAround(text: string, start: number, end: number): string {
  const from = Math.max(0, start - EXCERPT_RADIUS);
  const to = Math.min(text.length, end + EXCERPT_RADIUS);
  const body = text.slice(from, to).replace(/\s+/g, " ").trim();
  return (from > 0 ? "…" : "") + body + (to < text.length ? "…" : "");
}

/** Blame-prone phrases in human notes, in log order then text order. */
export function lintBlame(notes: Iterable<LintInput>): BlameFinding[] {
  const findings: BlameFinding[] = [];
  for (const note of notes) {
    const hits: { index: number; end: number; phrase: string }[] = [];
    for (const pattern of BLAME_PATTERNS) {
      pattern.lastIndex = 0;
      for (const m of note.text.matchAll(pattern)) {
        hits.push({ index: m.index, end: m.index + m[0].length, phrase: m[0] });
      }
    }
    hits.sort((a, b) => a.index - b.index || b.end - a.end);
    let lastEnd = -1;
    for (const h of hits) {
      if (h.index < lastEnd) continue; // overlapping patterns: keep the first, longest
      lastEnd = h.end;
      findings.push({ phrase: h.phrase, seq: note.seq, excerpt: excerptAround(note.text, h.index, h.end) });
    }
  }
  return findings;
}
