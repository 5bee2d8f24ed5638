/** A clock tests move by hand: `clock.now` goes where the server expects `() => Date`. */
export function testClock(start = new Date("2026-03-01T12:00:00Z")) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
    set(date: Date) {
      current = date.getTime();
    },
  };
}

export const DAY_MS = 24 * 60 * 60 * 1000;
