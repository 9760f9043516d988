// Validates Kubernetes custom resources against the KEDA and prometheus-operator schemas.
// stdin: a JSON array of resources; stdout: a JSON array with one entry per resource,
// {kind, name, errors: [...]} (errors empty when valid; "no schema" when the kind is unknown).
import * as keda from "@kubernetes-models/keda/keda.sh/v1alpha1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const MODELS = {
  "keda.sh/v1alpha1": keda,
  "monitoring.coreos.com/v1": monitoring,
};

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;

const results = JSON.parse(input).map((resource) => {
  const model = MODELS[resource.apiVersion]?.[resource.kind];
  const name = resource.metadata?.name;
  if (!model) return { kind: resource.kind, name, errors: ["no schema"] };
  try {
    new model(resource).validate();
    return { kind: resource.kind, name, errors: [] };
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    return { kind: resource.kind, name, errors: details.length ? details : [String(error)] };
  }
});
process.stdout.write(JSON.stringify(results));
