import { Link } from "react-router";
import { IntegrationForm } from "./Form";

export function NewIntegration() {
  return (
    <div className="max-w-3xl space-y-3">
      <Link className="link text-sm" to="/integrations">← Integrations</Link>
      <h1 className="text-xl font-semibold">Add an integration</h1>
      <p className="muted text-sm">
        Choose the source, fill in its address and credentials, and test the connection: Save is enabled once the
        source has accepted exactly these values.
      </p>
      <IntegrationForm />
    </div>
  );
}
