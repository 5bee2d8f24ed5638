/**
 * Sites: a site (a home, a greenhouse) owns every other resource; its members hold roles in it.
 * Lookups by id check the site; the site directory is the one cache of what the server knows
 * about each site, kept current by change events.
 */
export { SiteDirectory, type AuthenticatedDevice, type DeviceAuthResult, type DirectoryOptions } from "./directory";
export type { ActuatorFacts, AssignmentFacts, DeviceFacts, MetricPeriodFacts, MqttBindingFacts, MqttBindingsFacts, PlantFacts, RuleFacts, SensorFacts, SiteFacts } from "./facts";
export { requireSiteFilters, type SiteFilters } from "./filters";
export { requirePlant, requireSiteDevice, requireSiteSensor, siteTimeZone } from "./lookups";
export { changeMemberRole, createPersonalSite, createSite, deleteSite, getSite, inviteMember, listMembers, listSitesOf, membershipOf, removeMember, roleAllows, updateSite } from "./sites";
