// A partner's client in another language, built only from the .proto files and the network's
// CA certificate (plus the partner's own certificate): asks the registry what a learner's
// micro-credential counts for at an institution, and prints the answer as JSON.
//
//   node resolve.mjs HOST:PORT CA.pem CLIENT.pem CLIENT-KEY.pem TARGET PROVIDER/KEY AWARD_DATE
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const [address, ca, cert, key, target, credential, awardDate] = process.argv.slice(2);
const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../proto");
const definition = protoLoader.loadSync("registry/v1/equivalence.proto", {
  includeDirs: [protoRoot], keepCase: true, longs: Number, enums: String, defaults: true,
});
const registry = grpc.loadPackageDefinition(definition).registry.v1;
const credentials = grpc.credentials.createSsl(
  readFileSync(ca), readFileSync(key), readFileSync(cert));
const client = new registry.EquivalenceService(address, credentials);
const [institution_id, credentialKey] = credential.split("/");

client.ResolveTransfer(
  {
    holdings: [{ credential: { institution_id, key: credentialKey }, award_date: awardDate,
                 grade: { scheme: "UK_LETTER", value: "A" }, identity_verified: true }],
    target_institution_id: target,
    as_of: "2026-01-15",
  },
  { deadline: Date.now() + 10000 },
  (error, answer) => {
    if (error) {
      console.error(`${error.code} ${error.details}`);
      process.exit(1);
    }
    console.log(JSON.stringify(answer));
    client.close();
  },
);
