/**
 * MQTT bindings: which topics feed which device (a preset's name for it, or a generic pattern with
 * a mapping), and the topics that arrived unbound, to adopt in one step. The messages themselves
 * go through the MQTT pipeline (server/pipelines/mqtt), which reads bindings from the site directory.
 */
export { adoptDiscovered, bindTopic, listBindings, listDiscovered, normaliseTarget, unbindTopic, type Binding, type BindingTarget, type Discovered } from "./bindings";
