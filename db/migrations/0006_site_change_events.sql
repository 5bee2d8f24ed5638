-- Site change events: every write to a table that the site directory caches (server/sites/directory.ts)
-- sends a NOTIFY on the changes channel in the writing transaction, so every server hears of it when,
-- and only if, it commits, whoever wrote it (the API, ingest, a migration, psql).
-- Payload: {"kind":"site","siteId":…}; siteId is null for the species catalog (it concerns every site).
-- Arguments name columns that are activity rather than facts (a device's last-seen time): an UPDATE
-- that changes only those, or nothing at all, is not announced.
CREATE OR REPLACE FUNCTION verdant_site_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_data jsonb;
  site text;
BEGIN
  IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) - TG_ARGV::text[]) = (to_jsonb(NEW) - TG_ARGV::text[]) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN row_data := to_jsonb(OLD); ELSE row_data := to_jsonb(NEW); END IF;
  IF TG_TABLE_NAME = 'sites' THEN site := row_data->>'id'; ELSE site := row_data->>'site_id'; END IF;
  PERFORM pg_notify('verdant_changes', json_build_object('kind', 'site', 'siteId', site)::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER sites_site_changed AFTER INSERT OR UPDATE OR DELETE ON sites FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER site_members_site_changed AFTER INSERT OR UPDATE OR DELETE ON site_members FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER devices_site_changed AFTER INSERT OR UPDATE OR DELETE ON devices FOR EACH ROW EXECUTE FUNCTION verdant_site_changed('last_seen_at', 'battery_percent');
--> statement-breakpoint
CREATE TRIGGER sensors_site_changed AFTER INSERT OR UPDATE OR DELETE ON sensors FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER plants_site_changed AFTER INSERT OR UPDATE OR DELETE ON plants FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER species_site_changed AFTER INSERT OR UPDATE OR DELETE ON species FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER actuators_site_changed AFTER INSERT OR UPDATE OR DELETE ON actuators FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER automation_rules_site_changed AFTER INSERT OR UPDATE OR DELETE ON automation_rules FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
