import { PRICE_TABLE_VERSION } from "../pricing/price-table";
import { siteMonthlyCost } from "../pricing/site-cost";
import { pass, refuse } from "../verdict";
import type { Guard } from "./guard-types";

const money = (n: number, c: string) => `${c === "EUR" ? "€" : "$"}${n.toFixed(2)}`;

/**
 * The site's modelled monthly cost after the operation stays under its ceiling (list prices of
 * the sizes in the plan, research §4). A plan that lowers the cost always passes, so a site already
 * over its ceiling can still scale down.
 */
export const costCeiling: Guard = {
  rule: "monthly-cost-ceiling",
  appliesTo: "all",
  check({ site, currentConfig, plannedConfig, settings }) {
    const { currency, monthlyCeiling } = settings.cost;
    const after = siteMonthlyCost(plannedConfig, currency);
    if (after.unpriced.length > 0) {
      return refuse({
        rule: this.rule,
        value: after.unpriced,
        limit: `sizes in the price table ${PRICE_TABLE_VERSION}`,
        message: `${site}: no list price for ${after.unpriced.join(", ")} in the price table of ${PRICE_TABLE_VERSION}; add it before using that size`,
      });
    }
    const before = siteMonthlyCost(currentConfig, currency);
    const delta = after.total - before.total;
    const note = `${money(after.total, currency)}/month (${delta >= 0 ? "+" : ""}${money(delta, currency)}), ceiling ${money(monthlyCeiling, currency)}`;
    if (after.total <= monthlyCeiling || delta <= 0) return pass(this.rule, note);
    return refuse({
      rule: this.rule,
      value: Math.round(after.total * 100) / 100,
      limit: monthlyCeiling,
      message: `${site} would cost ${money(after.total, currency)}/month (${delta >= 0 ? "+" : ""}${money(delta, currency)}); the ceiling is ${money(monthlyCeiling, currency)} (prices of ${PRICE_TABLE_VERSION})`,
    });
  },
};

/** The monthly cost change of a plan, in the site's currency (the approval threshold reads it). */
export function costDelta(
  input: Pick<import("./guard-types").GuardInput, "currentConfig" | "plannedConfig" | "settings">,
): number {
  const c = input.settings.cost.currency;
  return (
    Math.round(
      (siteMonthlyCost(input.plannedConfig, c).total - siteMonthlyCost(input.currentConfig, c).total) * 100,
    ) / 100
  );
}
