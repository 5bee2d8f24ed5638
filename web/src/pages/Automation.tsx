import { AutomationLog } from "./automation/Log";
import { RulesSection } from "./automation/Rules";
import { SchedulesSection } from "./automation/Schedules";

/** Rules (on readings and devices), schedules (on the clock), and the log of what they did. */
export function AutomationPage() {
  return (
    <>
      <div className="page-head">
        <h1>Automation</h1>
      </div>
      <RulesSection />
      <SchedulesSection />
      <AutomationLog />
    </>
  );
}
