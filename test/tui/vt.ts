import stringWidth from "string-width";

// A tiny terminal: enough of VT100/xterm to replay what Ink writes (text,
// CR/LF, cursor up/home/column/next line, erase line/screen, SGR and private
// modes ignored) and read back the screen a person would see.

export class Vt {
  private screen: string[][];
  row = 0;
  col = 0;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    this.screen = this.blank();
  }
  private blank(): string[][] {
    return Array.from({ length: this.rows }, () => Array.from({ length: this.columns }, () => " "));
  }
  private lineFeed(): void {
    if (this.row === this.rows - 1) {
      this.screen.shift();
      this.screen.push(Array.from({ length: this.columns }, () => " "));
    } else this.row++;
  }
  write(data: string): void {
    const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
    let i = 0;
    while (i < data.length) {
      const ch = data[i]!;
      if (ch === "\x1b") {
        const m = /^\x1b\[([?]?)([0-9;]*)([A-Za-z])/.exec(data.slice(i));
        if (!m) {
          i += 2;
          continue;
        }
        i += m[0].length;
        if (m[1] === "?") {
          if (m[2] === "1049" && m[3] === "h") this.screen = this.blank();
          continue;
        }
        const params = m[2] ?? "";
        const n = params === "" ? 1 : Number(params.split(";")[0]);
        switch (m[3]) {
          case "A":
            this.row = Math.max(0, this.row - Math.max(1, n));
            break;
          case "B":
            this.row = Math.min(this.rows - 1, this.row + Math.max(1, n));
            break;
          case "E":
            this.col = 0;
            this.lineFeed();
            break;
          case "G":
            this.col = Math.max(0, n - 1);
            break;
          case "H": {
            const [r, c] = params === "" ? [1, 1] : params.split(";").map(Number);
            this.row = (r ?? 1) - 1;
            this.col = (c ?? 1) - 1;
            break;
          }
          case "K":
            for (let c = this.col; c < this.columns; c++) this.screen[this.row]![c] = " ";
            break;
          case "J":
            if (params === "2" || params === "3") this.screen = this.blank();
            break;
          default:
            break; // SGR (m) and the rest change no cell
        }
        continue;
      }
      if (ch === "\r") {
        this.col = 0;
        i++;
        continue;
      }
      if (ch === "\n") {
        this.col = 0;
        this.lineFeed();
        i++;
        continue;
      }
      const rest = data.slice(i);
      const g = seg.segment(rest)[Symbol.iterator]().next().value!.segment;
      const w = stringWidth(g);
      if (this.col + w > this.columns) {
        this.col = 0;
        this.lineFeed();
      }
      this.screen[this.row]![this.col] = g;
      for (let k = 1; k < w; k++) this.screen[this.row]![this.col + k] = "";
      this.col += w;
      i += g.length;
    }
  }
  lines(): string[] {
    return this.screen.map((r) => r.join("").replace(/\s+$/, ""));
  }
}
