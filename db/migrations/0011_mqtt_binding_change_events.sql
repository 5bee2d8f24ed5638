-- MQTT bindings are site facts (the site directory routes every MQTT message by them, see
-- server/sites/facts.ts): a write to mqtt_bindings announces a change of its site like the tables of
-- migration 0006 (and 0008), in the writing transaction, with the same function (it reads the row's site_id).
CREATE TRIGGER mqtt_bindings_site_changed AFTER INSERT OR UPDATE OR DELETE ON mqtt_bindings FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
