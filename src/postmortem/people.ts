import type { Actor } from "../protocol/types.js";

// A blameless draft names roles, not people ("the on-call operator"), unless
// the authors ask for names with --names. Names are learnt from the actors of
// human events and from incident role assignments; notes that mention a known
// name get the role instead, so a name cannot leak through free text either.

const INCIDENT_ROLE_LABELS: Record<string, string> = {
  commander: "the incident commander",
  scribe: "the scribe",
  operator: "the on-call operator",
  liaison: "the communications liaison",
};

const ACTOR_ROLE_LABELS: Record<string, string> = {
  commander: "the incident commander",
  operator: "the on-call operator",
  viewer: "a viewer",
};

const ENGINE_LABEL = "the rollout engine";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

interface Person {
  name: string;
  /** order of first appearance: stable numbering when two people share a role */
  order: number;
  incidentRole?: string;
  actorRole?: string;
}

export class PeopleDirectory {
  private readonly people = new Map<string, Person>();
  private labels: Map<string, string> | null = null;

  /** Learn a human actor (integrations and the engine are systems, not people). */
  noteActor(actor: Actor): void {
    if (actor.kind !== "human" || !actor.name) return;
    const p = this.person(actor.name);
    if (actor.role && !p.actorRole) p.actorRole = String(actor.role);
  }

  /** Learn a role from incident.role_assigned; the latest assignment wins. */
  noteRoleAssigned(name: string, role: string): void {
    if (!name) return;
    this.person(name).incidentRole = role;
  }

  /** Learn a name without a role (an assignment in another incident): it is still kept out of text. */
  noteName(name: string): void {
    if (name) this.person(name);
  }

  private person(name: string): Person {
    let p = this.people.get(name);
    if (!p) {
      p = { name, order: this.people.size };
      this.people.set(name, p);
      this.labels = null;
    }
    return p;
  }

  get size(): number {
    return this.people.size;
  }

  /** Known names, longest first (so "Ann Lee" is replaced before "Ann"). */
  names(): string[] {
    return [...this.people.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The role label of a known name; people sharing a role are numbered. */
  labelOf(name: string): string {
    const labels = this.computeLabels();
    return labels.get(name) ?? "a responder";
  }

  /** Label for a name matched case-insensitively in free text. */
  labelOfLoose(name: string): string {
    if (this.people.has(name)) return this.labelOf(name);
    const lower = name.toLowerCase();
    for (const known of this.names()) if (known.toLowerCase() === lower) return this.labelOf(known);
    return "a responder";
  }

  private pattern: RegExp | null = null;
  private patternSize = -1;

  /** One regex matching any known name as a whole word, longest first; null when none. */
  namePattern(): RegExp | null {
    if (this.patternSize === this.people.size) return this.pattern;
    const names = this.names().filter((n) => n.trim().length > 0);
    this.patternSize = this.people.size;
    this.pattern =
      names.length === 0
        ? null
        : new RegExp(`@?(?<![\\p{L}\\p{N}_])(${names.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}_])`, "giu");
    return this.pattern;
  }

  private computeLabels(): Map<string, string> {
    if (this.labels) return this.labels;
    const byBase = new Map<string, Person[]>();
    const ordered = [...this.people.values()].sort((a, b) => a.order - b.order);
    for (const p of ordered) {
      const base =
        (p.incidentRole && INCIDENT_ROLE_LABELS[p.incidentRole]) ??
        (p.actorRole && ACTOR_ROLE_LABELS[p.actorRole]) ??
        (p.incidentRole ? `the ${p.incidentRole}` : p.actorRole ? `a ${p.actorRole}` : "a responder");
      const group = byBase.get(base) ?? [];
      group.push(p);
      byBase.set(base, group);
    }
    const labels = new Map<string, string>();
    for (const [base, group] of byBase) {
      if (group.length === 1) labels.set(group[0]!.name, base);
      else group.forEach((p, i) => labels.set(p.name, `${base} (${i + 1})`));
    }
    this.labels = labels;
    return labels;
  }
}

export interface PeopleOptions {
  /** keep real names (--names) */
  names: boolean;
}

/** How an actor appears in the draft. */
export function actorLabel(actor: Actor, people: PeopleDirectory, opts: PeopleOptions): string {
  if (actor.kind === "engine") return ENGINE_LABEL;
  if (actor.kind === "integration") return actor.name ? `the ${actor.name} integration` : "an integration";
  if (opts.names) return actor.name || "a responder";
  return people.labelOf(actor.name);
}

/** How a person named in data (incident.role_assigned) appears in the draft. */
export function personLabel(name: string, people: PeopleDirectory, opts: PeopleOptions): string {
  return opts.names ? name : people.labelOf(name);
}

/**
 * Replace every known name in free text with its role label (case-insensitive,
 * whole words only, so "Al" does not touch "also"). One pass over the text, so
 * a label put in cannot itself be matched by another name. With --names, unchanged.
 */
export function anonymizeText(text: string, people: PeopleDirectory, opts: PeopleOptions): string {
  if (opts.names || people.size === 0 || text.length === 0) return text;
  const pattern = people.namePattern();
  if (!pattern) return text;
  pattern.lastIndex = 0;
  // "@alice" becomes "the on-call operator", not "@the on-call operator"; a
  // label that starts a sentence starts with a capital.
  return text.replace(pattern, (_m, name: string, offset: number, whole: string) => {
    const label = people.labelOfLoose(name);
    const before = whole.slice(0, offset);
    return before.trim() === "" || /[.!?:]\s+$|\n\s*$/.test(before) ? label.charAt(0).toUpperCase() + label.slice(1) : label;
  });
}
