// Calls that ask the same question at the same time share one answer: the first runs, the others
// wait for its result. Used where many readers are woken at once by one change (the event
// streams: one feed read per organisation and wake instead of one per stream). A key must name
// everything the answer depends on; nothing is kept once answered.
//
// Some answers must be newer than something the caller saw: a stream checks its reader's
// permission after reading a batch, and a check that began before that read may predate the
// removal the batch contains. `moment()` marks a point in this process's order of events, and
// `run(key, ask, after)` shares only an answer begun after that mark.

let clock = 0;

/** A mark in this process's order: every later mark, and every later `run`, is greater. */
export function moment(): number {
  clock += 1;
  return clock;
}

interface Flight<T> {
  answer: Promise<T>;
  began: number;
}

export class SingleFlight<T> {
  readonly #running = new Map<string, Flight<T>>();

  /** The answer to `key`: one being given now that began after `after`, or a new one. */
  run(key: string, ask: () => Promise<T>, after = 0): Promise<T> {
    const running = this.#running.get(key);
    if (running && running.began > after) return running.answer;
    const flight: Flight<T> = { answer: Promise.resolve() as Promise<T>, began: moment() };
    flight.answer = ask().finally(() => {
      // A newer flight of the same key may have taken its place: that one stays.
      if (this.#running.get(key) === flight) this.#running.delete(key);
    });
    this.#running.set(key, flight);
    return flight.answer;
  }

  /** Questions being answered now. */
  get size(): number {
    return this.#running.size;
  }
}
