import type { ChangeWindow } from "./guard-settings";
import { pass, passWithNote, refuse } from "../verdict";
import type { Guard } from "./guard-types";

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** True when `now` (UTC) falls in the window; a window whose end is before its start runs past midnight. */
export function inWindow(w: ChangeWindow, now: Date): boolean {
  const t = now.getUTCHours() * 60 + now.getUTCMinutes();
  const day = now.getUTCDay();
  const [s, e] = [minutes(w.start), minutes(w.end)];
  if (s <= e) return w.days.includes(day) && t >= s && t < e;
  // Past midnight: the part after midnight belongs to the window that started the day before.
  return (w.days.includes(day) && t >= s) || (w.days.includes((day + 6) % 7) && t < e);
}

export const describeWindow = (w: ChangeWindow) =>
  `${w.days.map((d) => DAYS[d]).join(",")} ${w.start}–${w.end} UTC`;

/** Changes happen inside the site's windows; an emergency kind (failover) may run outside, and says so. */
export const changeWindow: Guard = {
  rule: "change-window",
  appliesTo: "all",
  check({ site, kind, settings, now }) {
    const windows = settings.changeWindows;
    if (windows.length === 0) return pass(this.rule, `${site} has no change window (any time)`);
    const inside = windows.find((w) => inWindow(w, now));
    if (inside) return pass(this.rule, `inside the change window ${describeWindow(inside)}`);
    const list = windows.map(describeWindow);
    if (settings.emergencyKinds.includes(kind)) {
      return passWithNote(
        this.rule,
        `${kind} at ${now.toISOString()} is outside the change windows (${list.join("; ")}): allowed as an emergency`,
      );
    }
    return refuse({
      rule: this.rule,
      value: now.toISOString(),
      limit: list,
      message: `${site}: ${kind} at ${now.toISOString()} is outside the change windows (${list.join("; ")})`,
    });
  },
};
