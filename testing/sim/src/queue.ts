// A binary min-heap of events ordered by simulated time, then by insertion sequence: two events at
// the same instant always come out in the order they were scheduled, so a run never depends on
// how a sort breaks ties.

interface Entry<T> {
  readonly time: number;
  readonly seq: number;
  readonly value: T;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Time of the earliest event, Infinity when empty. */
  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  push(time: number, value: T): void {
    if (!Number.isFinite(time)) throw new RangeError(`event time must be finite: ${time}`);
    const heap = this.heap;
    heap.push({ time, seq: this.nextSeq++, value });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { time: number; value: T } | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return { time: top.time, value: top.value };
  }

  private less(a: Entry<T>, b: Entry<T>): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const tmp = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = tmp;
  }
}
