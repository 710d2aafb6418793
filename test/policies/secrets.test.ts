import { noLiteralSecrets } from "../../policies/rules/secrets";
import { tokenSecret } from "./fixtures";
import { UNKNOWN_VALUE, change, validateResource } from "./harness";

const fix =
    'Fix: store the value in Vault and declare an external-secrets.io/v1 ExternalSecret whose target (template.type "%T") creates this Secret, or allow it with the policy config allowedNames/allowedTypes.';
const pullSecret = change(change(tokenSecret, "type", "kubernetes.io/dockerconfigjson"), "metadata", {
    name: "gitlab-registry-unsecured-secret",
    namespace: "demo-external-secrets",
});

describe("no-literal-kubernetes-secrets", () => {
    it("accepts a service-account token Secret", async () => {
        expect((await validateResource(noLiteralSecrets, tokenSecret)).violations).toEqual([]);
    });

    it("accepts a Secret without data", async () => {
        expect((await validateResource(noLiteralSecrets, pullSecret)).violations).toEqual([]);
    });

    it("ignores other resource types", async () => {
        const cm = { ...change(pullSecret, "data", { a: "b" }), type: "kubernetes:core/v1:ConfigMap" };
        expect((await validateResource(noLiteralSecrets, cm)).violations).toEqual([]);
    });

    it("flags the guide's plaintext dockerconfigjson Secret", async () => {
        const bad = change(pullSecret, "data", { ".dockerconfigjson": "eyJhdXRocyI6" });
        expect((await validateResource(noLiteralSecrets, bad)).violations).toEqual([
            'kubernetes:core/v1:Secret "platform-reviewer-token": type "kubernetes.io/dockerconfigjson" sets literal data (".dockerconfigjson"). ' +
                fix.replace("%T", "kubernetes.io/dockerconfigjson"),
        ]);
    });

    it("flags stringData on an Opaque Secret (type defaults to Opaque)", async () => {
        const bad = change(change(pullSecret, "type", undefined), "stringData", { password: "hunter2" });
        expect((await validateResource(noLiteralSecrets, bad)).violations).toEqual([
            'kubernetes:core/v1:Secret "platform-reviewer-token": type "Opaque" sets literal stringData ("password"). ' + fix.replace("%T", "Opaque"),
        ]);
    });

    it("flags data that is only known after apply (e.g. from a RandomPassword)", async () => {
        const bad = change(pullSecret, "stringData", UNKNOWN_VALUE);
        expect((await validateResource(noLiteralSecrets, bad)).violations).toEqual([
            'kubernetes:core/v1:Secret "platform-reviewer-token": type "kubernetes.io/dockerconfigjson" sets literal stringData. ' +
                fix.replace("%T", "kubernetes.io/dockerconfigjson"),
        ]);
    });

    it("accepts an empty data map", async () => {
        expect((await validateResource(noLiteralSecrets, change(pullSecret, "data", {}))).violations).toEqual([]);
    });

    it.each([
        ["allowedNames (resource name)", { allowedNames: ["platform-reviewer-token"] }],
        ["allowedNames (metadata.name)", { allowedNames: ["gitlab-registry-unsecured-secret"] }],
        ["allowedNames (namespace/name)", { allowedNames: ["demo-external-secrets/gitlab-registry-unsecured-secret"] }],
        ["allowedTypes", { allowedTypes: ["kubernetes.io/dockerconfigjson"] }],
    ])("lets config %s allow literal data", async (_, config) => {
        const bad = change(pullSecret, "data", { ".dockerconfigjson": "eyJ" });
        expect((await validateResource(noLiteralSecrets, bad, { config })).violations).toEqual([]);
    });

    it("flags a hand-made Secret wearing ESO's labels, even when its type is allowed", async () => {
        const bad = change(tokenSecret, "metadata.labels", { "reconcile.external-secrets.io/managed": "true", app: "x" });
        expect((await validateResource(noLiteralSecrets, bad)).violations).toEqual([
            'kubernetes:core/v1:Secret "platform-reviewer-token": sets the ESO-managed label(s) "reconcile.external-secrets.io/managed", ' +
                "which would make a hand-made Secret look synced by external-secrets. Fix: remove these labels; external-secrets sets them on the Secrets it creates.",
        ]);
    });
});
