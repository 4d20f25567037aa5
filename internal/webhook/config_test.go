package webhook

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// testSecret is a Standard Webhooks secret of 32 bytes.
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	return dir
}

func TestLoadFileReadsWebhooksAndTheirSecrets(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"crm.secret": testSecret + "\n",
		"webhooks.yaml": `webhooks:
  - name: crm
    url: https://crm.example.com/hooks/handoff
    secretFile: crm.secret
    includeAnswers: true
    types: [journey.expiring, journey.expired]
  - name: ivr-2
    url: http://ivr.internal:8080/events
    secretFile: crm.secret
    maxAttempts: 3
    concurrency: 1
  - name: local-crm
    url: http://127.0.0.1:9000/events
    secretFile: crm.secret
    includeAnswers: true
`,
	})
	hooks, err := LoadFile(filepath.Join(dir, "webhooks.yaml"))
	require.NoError(t, err)
	require.Len(t, hooks, 3)
	require.True(t, hooks[2].IncludeAnswers, "answers may go over http:// to a loopback address")
	require.Equal(t, "crm", hooks[0].Name)
	require.True(t, hooks[0].IncludeAnswers)
	require.Equal(t, DefaultMaxAttempts, hooks[0].MaxAttempts)
	require.True(t, hooks[0].Wants("journey.expired"))
	require.False(t, hooks[0].Wants("journey.touched"))
	require.Equal(t, DefaultConcurrency, hooks[0].Concurrency)
	require.Equal(t, 3, hooks[1].MaxAttempts)
	require.Equal(t, 1, hooks[1].Concurrency)
	require.True(t, hooks[1].Wants("journey.touched"), "no types: every type")
}

func TestLoadFileRefusesWhatCannotWorkNamingFileAndField(t *testing.T) {
	hook := func(fields string) string {
		return "webhooks:\n  - {name: crm, url: 'https://crm.example.com/h', secretFile: good.secret" + fields + "}\n"
	}
	for name, tc := range map[string]struct{ yaml, secret, want string }{
		"unknown field":           {yaml: hook(", retries: 3"), want: `unknown field "retries"`},
		"unknown top key":         {yaml: "hooks: []\n", want: `unknown field "hooks"`},
		"bad name":                {yaml: strings.Replace(hook(""), "name: crm", "name: CRM_1", 1), want: "webhooks[0].name"},
		"long name":               {yaml: strings.Replace(hook(""), "name: crm", "name: "+strings.Repeat("a", 33), 1), want: "webhooks[0].name"},
		"duplicate name":          {yaml: hook("") + "  - {name: crm, url: 'https://x.example.com', secretFile: good.secret}\n", want: `webhooks[1].name: "crm" is used twice`},
		"not http":                {yaml: strings.Replace(hook(""), "https://crm.example.com/h", "ftp://crm.example.com/h", 1), want: "webhooks[0].url"},
		"no host":                 {yaml: strings.Replace(hook(""), "https://crm.example.com/h", "https:///h", 1), want: "webhooks[0].url"},
		"unknown type":            {yaml: hook(", types: [journey.touched, journey.saved]"), want: `webhooks[0].types[1]: "journey.saved"`},
		"negative attempts":       {yaml: hook(", maxAttempts: -1"), want: "webhooks[0].maxAttempts"},
		"negative concurrency":    {yaml: hook(", concurrency: -1"), want: "webhooks[0].concurrency: must be between 1 and 64"},
		"concurrency over 64":     {yaml: hook(", concurrency: 65"), want: "webhooks[0].concurrency: must be between 1 and 64"},
		"no secret file":          {yaml: strings.Replace(hook(""), ", secretFile: good.secret", "", 1), want: "webhooks[0].secretFile: is required"},
		"missing secret":          {yaml: strings.Replace(hook(""), "good.secret", "nope.secret", 1), want: "webhooks[0].secretFile"},
		"secret no prefix":        {yaml: hook(""), secret: strings.TrimPrefix(testSecret, "whsec_"), want: "must start with whsec_"},
		"secret not base64":       {yaml: hook(""), secret: "whsec_%%%", want: "not standard base64"},
		"secret too short":        {yaml: hook(""), secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("short")), want: "5 bytes"},
		"string for a bool":       {yaml: hook(", includeAnswers: 'yes please'"), want: "includeAnswers"},
		"answers over plain http": {yaml: strings.Replace(hook(", includeAnswers: true"), "https://crm.example.com/h", "http://crm.example.com/h", 1), want: "webhooks[0].url: must be https:// with includeAnswers"},
		"duplicate yaml key":      {yaml: "webhooks: []\nwebhooks: []\n", want: "already set"},
	} {
		t.Run(name, func(t *testing.T) {
			secret := tc.secret
			if secret == "" {
				secret = testSecret
			}
			dir := writeFiles(t, map[string]string{"webhooks.yaml": tc.yaml, "good.secret": secret})
			path := filepath.Join(dir, "webhooks.yaml")
			_, err := LoadFile(path)
			require.Error(t, err)
			require.Contains(t, err.Error(), path)
			require.Contains(t, err.Error(), tc.want)
			if tc.secret != "" && len(tc.secret) > 10 {
				require.NotContains(t, err.Error(), tc.secret[6:], "an error never quotes a secret")
			}
		})
	}
}

func TestASignedDeliveryVerifiesWithTheLibraryAndATamperedOneDoesNot(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"s":      testSecret,
		"w.yaml": "webhooks: [{name: crm, url: 'https://crm.example.com', secretFile: s}]\n",
	})
	hooks, err := LoadFile(filepath.Join(dir, "w.yaml"))
	require.NoError(t, err)
	body := []byte(`{"id":"1732860000000-0","type":"journey.touched"}`)
	h := http.Header{}
	require.NoError(t, Sign(hooks[0], h, "1732860000000-0", time.Now(), body))
	require.Equal(t, "1732860000000-0", h.Get("webhook-id"))
	require.True(t, strings.HasPrefix(h.Get("webhook-signature"), "v1,"))

	receiver, err := standardwebhooks.NewWebhook(testSecret)
	require.NoError(t, err)
	require.NoError(t, receiver.Verify(body, h))

	tampered := []byte(strings.Replace(string(body), "touched", "expired", 1))
	require.ErrorIs(t, receiver.Verify(tampered, h), standardwebhooks.ErrNoMatchingSignature)
	other := h.Clone()
	other.Set("webhook-id", "1732860000000-1")
	require.ErrorIs(t, receiver.Verify(body, other), standardwebhooks.ErrNoMatchingSignature, "the id is signed too")
}
