/**
 * Wall-clock times in the site's time zone: a grower in Berlin looking at a greenhouse in Lisbon
 * still means Lisbon's 08:00. Intl gives the zone's offset at an instant; an instant for a local
 * time is found by correcting a first guess with the offset there (as server/care/zoned-time.ts).
 */

function offsetMs(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour) % 24, Number(parts.minute), Number(parts.second));
  return asUtc - (instant - (((instant % 1000) + 1000) % 1000));
}

/** The instant at which the zone's clocks show `YYYY-MM-DD` `HH:MM`. */
export function instantOf(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const [hh, mm] = time.split(":").map(Number) as [number, number];
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const first = offsetMs(wall, timeZone);
  const second = offsetMs(wall - first, timeZone);
  return new Date(wall - second);
}

/** The zone's local date (`YYYY-MM-DD`) and time (`HH:MM`) of an instant, for date and time inputs. */
export function localParts(instant: Date | number, timeZone: string): { date: string; time: string } {
  const t = typeof instant === "number" ? instant : instant.getTime();
  const wall = new Date(t + offsetMs(t, timeZone)).toISOString();
  return { date: wall.slice(0, 10), time: wall.slice(11, 16) };
}
