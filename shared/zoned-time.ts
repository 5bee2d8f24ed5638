/**
 * Wall-clock time in an IANA zone without a date library. RRULE expansion works on "floating"
 * dates whose UTC fields hold the site's local time (08:00 stays 08:00 across DST changes); these
 * helpers convert between such wall-clock dates and real instants.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at this instant, in ms (Europe/Berlin in summer: +7,200,000). */
export function offsetMs(instant: Date, timeZone: string): number {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(instant).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute), Number(parts.second));
  return asUtc - (instant.getTime() - (((instant.getTime() % 1000) + 1000) % 1000));
}

/** The local wall-clock time of an instant, as a floating date. */
export function toWallClock(instant: Date, timeZone: string): Date {
  return new Date(instant.getTime() + offsetMs(instant, timeZone));
}

/**
 * The instant at which the zone's clocks show this wall-clock time. A time skipped by a
 * spring-forward change resolves to the same distance past the change (02:30 → 03:30); a time
 * repeated by a fall-back change resolves to its later occurrence.
 */
export function fromWallClock(wall: Date, timeZone: string): Date {
  const t = wall.getTime();
  const first = offsetMs(wall, timeZone);
  const guess = t - first;
  const second = offsetMs(new Date(guess), timeZone);
  return new Date(second === first ? guess : t - second);
}
