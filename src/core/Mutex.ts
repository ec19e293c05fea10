/** Runs async sections one at a time, in the order they asked. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves with `section`'s result once every earlier section has finished. */
  async run<T>(section: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise((resolve) => (release = resolve));
    try {
      await previous;
      return await section();
    } finally {
      release();
    }
  }
}
