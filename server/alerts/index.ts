/** Alerts: raised by rules (one unresolved alert per rule + subject), acknowledged and resolved by people; changes reach webhooks and live streams. */
export { acknowledgeAlert, acknowledgeAlerts, type AlertNumbers, getAlert, listAlerts, noteAlertValue, raiseAlert, resolveAlert, resolveAlertByKey, resolveAlerts } from "./alerts";
