-- Hand-written (drizzle-kit --custom): keep it as its own migration when regenerating the others.
--
-- New sensors are announced with their ids. Ingest creates a device's sensors on its first batch and
-- adds them to the site directory of the server that created them at once; the ids let that server
-- see, when the announcement comes back, that it already knows them, instead of reading the whole
-- site again (a fleet of new devices cost a full site load each, O(sensors²) for the fleet). Every
-- other server, not knowing them, reads the site again as before.
--
-- One notification per INSERT statement and site (a statement-level trigger over the inserted rows):
-- {"kind":"site","siteId":…,"sensorsCreated":[id,…]}, the ids left out beyond 100 (Postgres refuses
-- payloads of 8,000 bytes), which makes it an ordinary site change. Updates and deletes keep the
-- row trigger of migration 0006.
CREATE OR REPLACE FUNCTION verdant_sensors_created() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  created record;
BEGIN
  FOR created IN SELECT site_id, count(*) AS n, json_agg(id ORDER BY id) AS ids FROM inserted GROUP BY site_id LOOP
    IF created.n <= 100 THEN
      PERFORM pg_notify('verdant_changes', json_build_object('kind', 'site', 'siteId', created.site_id, 'sensorsCreated', created.ids)::text);
    ELSE
      PERFORM pg_notify('verdant_changes', json_build_object('kind', 'site', 'siteId', created.site_id)::text);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER sensors_site_changed ON sensors;
--> statement-breakpoint
CREATE TRIGGER sensors_site_changed AFTER UPDATE OR DELETE ON sensors FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER sensors_created AFTER INSERT ON sensors REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION verdant_sensors_created();
