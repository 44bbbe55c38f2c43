// Calls that ask the same question at the same time share one answer: the first runs, the others
// wait for its result. Used where many readers are woken at once by one change (the event
// streams: one feed read per organisation and wake instead of one per stream). A key must name
// everything the answer depends on, including when it was asked; nothing is kept once answered.

export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  run(key: string, ask: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running;
    const answer = ask().finally(() => this.#running.delete(key));
    this.#running.set(key, answer);
    return answer;
  }

  /** Questions being answered now. */
  get size(): number {
    return this.#running.size;
  }
}
