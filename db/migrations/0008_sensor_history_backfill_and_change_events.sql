-- Hand-written (drizzle-kit --custom): keep it as its own migration when regenerating the others.
--
-- 1. Sensors assigned before assignment history existed: each assignment becomes an open interval
--    from the sensor's creation (the only start we know). As a sensor's first interval it also
--    covers readings dated before it (see server/analytics/windows.ts), so nothing a plant showed
--    before this migration disappears from it.
INSERT INTO sensor_assignments (site_id, sensor_id, plant_id, started_at)
SELECT s.site_id, s.id, s.plant_id, s.created_at
FROM sensors s
WHERE s.plant_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM sensor_assignments a WHERE a.sensor_id = s.id AND a.ended_at IS NULL);
--> statement-breakpoint
-- 2. The site directory caches sensors with their history: writes to the history tables announce
--    a change of their site, like every other table it reads (migration 0006).
CREATE TRIGGER sensor_assignments_site_changed AFTER INSERT OR UPDATE OR DELETE ON sensor_assignments FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
--> statement-breakpoint
CREATE TRIGGER sensor_metric_periods_site_changed AFTER INSERT OR UPDATE OR DELETE ON sensor_metric_periods FOR EACH ROW EXECUTE FUNCTION verdant_site_changed();
