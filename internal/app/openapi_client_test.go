package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The npm packages that turn the OpenAPI document into a typed client, as a
// web developer would: swagger2openapi (handoffd's document is OpenAPI 2,
// as protoc-gen-openapiv2 writes it), openapi-typescript, openapi-fetch,
// and TypeScript to check the client against the generated types.
var openapiClientTools = []string{"openapi-typescript@7.13.0", "openapi-fetch@0.17.0", "swagger2openapi@7.0.8", "typescript@5.9.3"}

// generatedClient is a website's TypeScript, written against the types
// generated from /openapi.json: create, save with the etag, hand off, and
// redeem as an agent. tsc refuses it if a path, parameter or field it uses
// is not in the document.
const generatedClient = `import createClient from "openapi-fetch";
import type { paths } from "./api.js";

declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

const baseUrl = process.env.HANDOFF;
const website = createClient<paths>({ baseUrl, headers: { Authorization: "Bearer " + process.env.WEBSITE_TOKEN } });
const agent = createClient<paths>({ baseUrl, headers: { Authorization: "Bearer " + process.env.AGENT_TOKEN, "X-Handoff-Channel": "phone" } });

async function main(): Promise<void> {
  const created = await website.POST("/v1/customers/{customer}/journeys", {
    params: { path: { customer: "c-42" } },
    body: { journeyType: "car-insurance-quote", step: "vehicle" },
  });
  if (!created.data) throw new Error("create: " + JSON.stringify(created.error));
  const journey = created.data.name!.split("/").pop()!;
  const saved = await website.PATCH("/v1/customers/{customer}/journeys/{journey}", {
    params: { path: { customer: "c-42", journey } },
    body: { step: "cover", etag: created.data.etag, data: { vehicle: { plate: "AB-123-C" } } },
  });
  if (!saved.data) throw new Error("save: " + JSON.stringify(saved.error));
  const offer = await website.POST("/v1/customers/{customer}/journeys/{journey}:handoff", {
    params: { path: { customer: "c-42", journey } },
    body: {},
  });
  if (!offer.data) throw new Error("handoff: " + JSON.stringify(offer.error));
  const redeemed = await agent.POST("/v1/handoffs/{code}:redeem", { params: { path: { code: offer.data.code! } }, body: {} });
  if (!redeemed.data) throw new Error("redeem: " + JSON.stringify(redeemed.error));
  const stale = await website.PATCH("/v1/customers/{customer}/journeys/{journey}", {
    params: { path: { customer: "c-42", journey } },
    body: { step: "driver", etag: created.data.etag },
  });
  console.log(JSON.stringify({
    name: created.data.name, step: saved.data.step, data: saved.data.data,
    assignee: redeemed.data.assignee, redeemedStep: redeemed.data.step, staleStatus: stale.response.status,
  }));
}

main().catch((err) => { console.error(err); process.exit(1); });
`

// npmTools installs the packages once per machine into the user's cache,
// keyed by their versions, and returns the directory holding node_modules.
func npmTools(t *testing.T, packages []string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("the generated-client test needs npm: apt-get install -y npm (make test installs it)")
	}
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	dir := filepath.Join(cache, "handoff-test-npm", strings.NewReplacer("@", "-", "/", "-").Replace(strings.Join(packages, "_")))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "tsc")); err == nil {
		return dir
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	install := exec.Command("npm", append([]string{"install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund", "--loglevel=error"}, packages...)...)
	out, err := install.CombinedOutput()
	require.NoError(t, err, "npm install: %s", out)
	return dir
}

func TestAClientGeneratedFromTheOpenAPIDocumentCreatesSavesHandsOffAndRedeems(t *testing.T) {
	h := start(t, memoryStore)
	tools := npmTools(t, openapiClientTools)
	work := t.TempDir()
	// The generated files sit beside node_modules, where Node finds them.
	require.NoError(t, os.Symlink(filepath.Join(tools, "node_modules"), filepath.Join(work, "node_modules")))
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(tools, "node_modules", ".bin", name), args...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return string(out)
	}

	resp, err := http.Get(h.base + "/openapi.json")
	require.NoError(t, err)
	doc, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(work, "openapi2.json"), doc, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(work, "client.mts"), []byte(generatedClient), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(work, "package.json"), []byte(`{"type": "module"}`), 0o600))

	run("swagger2openapi", "openapi2.json", "-o", "openapi3.json")
	// The answers (data) are a free JSON object, "type": "object" with no
	// properties; openapi-typescript reads that as an empty object unless
	// told that such objects take any property.
	run("openapi-typescript", "openapi3.json", "--empty-objects-unknown", "-o", "api.d.ts")
	run("tsc", "--strict", "--noUncheckedIndexedAccess", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "client.mts")

	node := exec.Command("node", "client.mjs")
	node.Dir = work
	node.Env = append(os.Environ(), "HANDOFF="+h.base, "WEBSITE_TOKEN="+websiteToken, "AGENT_TOKEN="+aliceToken)
	out, err := node.CombinedOutput()
	require.NoError(t, err, "the generated client failed: %s", out)
	var got struct {
		Name, Step, Assignee, RedeemedStep string
		Data                               map[string]any
		StaleStatus                        int
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	require.Regexp(t, `^customers/c-42/journeys/[a-z0-9-]+$`, got.Name)
	require.Equal(t, "cover", got.Step)
	require.Equal(t, map[string]any{"vehicle": map[string]any{"plate": "AB-123-C"}}, got.Data)
	require.Equal(t, "alice", got.Assignee, "the redeem claimed the journey for the agent")
	require.Equal(t, "cover", got.RedeemedStep)
	require.Equal(t, http.StatusConflict, got.StaleStatus, "a save with the create's etag after the step moved")
}
