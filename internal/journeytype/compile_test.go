package journeytype_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestCompileAcceptsTheExamples(t *testing.T) {
	defs, err := journeytype.LoadDir("../../examples/journey-types")
	if err != nil {
		t.Fatalf("LoadDir: %v", err)
	}
	got := map[string]*journeytype.Type{}
	for _, def := range defs {
		typ, err := journeytype.Compile(def)
		if err != nil {
			t.Fatalf("Compile(%s): %v", def.GetName(), err)
		}
		got[typ.ID()] = typ
	}

	car := got["car-insurance-quote"]
	if car == nil {
		t.Fatalf("no car-insurance-quote among %v", slices.Collect(maps.Keys(got)))
	}
	if car.FirstStep() != "vehicle" || car.TTL() != 720*time.Hour || len(car.SensitivePaths()) != 0 {
		t.Errorf("car: first step %q, ttl %s, sensitive %v", car.FirstStep(), car.TTL(), car.SensitivePaths())
	}
	for _, ok := range []struct {
		path, js string
	}{
		{"vehicle.plate", `"AB-123-C"`},
		{"vehicle.year", `2020`},
		{"driver.birthYear", `1980`},
		{"driver.claimsFree", `0`},
		{"cover.level", `"comprehensive"`},
		{"cover.excess", `250`},
		{"cover.startDate", `"2026-01-31"`},
		{"confirm.email", `"jan@example.nl"`},
		{"confirm.consent", `true`},
	} {
		if v := car.CheckAnswer(ok.path, value(t, ok.js)); v != nil {
			t.Errorf("car %s = %s: %v", ok.path, ok.js, v)
		}
	}
	for _, bad := range []struct{ path, js string }{
		{"vehicle.year", `1949`},
		{"vehicle.year", `2020.5`},
		{"driver.claimsFree", `61`},
		{"cover.excess", `100`},
		{"cover.startDate", `"31-01-2026"`},
		{"confirm.email", `"not an address"`},
		{"confirm.consent", `"yes"`},
	} {
		if v := car.CheckAnswer(bad.path, value(t, bad.js)); v == nil {
			t.Errorf("car %s = %s was accepted", bad.path, bad.js)
		}
	}
	if !car.Definition().GetSteps()[2].GetMomentOfTruth() || car.Definition().GetTitle()["nl"] == "" {
		t.Errorf("car: cover is not a moment of truth, or the title has no Dutch")
	}

	home := got["home-insurance-claim"]
	if home == nil {
		t.Fatalf("no home-insurance-claim among %v", slices.Collect(maps.Keys(got)))
	}
	if keep, ok := home.Sensitive("payment.iban"); !ok || keep != 4 {
		t.Errorf("home: Sensitive(payment.iban) = %d, %v; want 4, true", keep, ok)
	}
	if home.TTL() != 14*24*time.Hour {
		t.Errorf("home: ttl %s, want 14 days", home.TTL())
	}
	if v := home.CheckAnswer("payment.iban", value(t, `"NL91ABNA0417164300"`)); v != nil {
		t.Errorf("home: a valid IBAN was refused: %v", v)
	}
	if v := home.CheckAnswer("incident.description", value(t, `"`+strings.Repeat("x", 2001)+`"`)); v == nil {
		t.Errorf("home: a description of 2001 characters was accepted")
	}
}

func TestCompileRefusesADefinitionWith(t *testing.T) {
	answer := func(def *handoffv1.JourneyType, step, key int) *handoffv1.AnswerDefinition {
		return def.GetSteps()[step].GetAnswers()[key]
	}
	tests := []struct {
		name    string
		breakIt func(def *handoffv1.JourneyType)
		want    string
	}{
		{"no name", func(d *handoffv1.JourneyType) { d.Name = "" }, "name is missing"},
		{"a name with a version", func(d *handoffv1.JourneyType) { d.Name = "journeyTypes/test-type@2" }, `name "journeyTypes/test-type@2" must match`},
		{"a name without the collection", func(d *handoffv1.JourneyType) { d.Name = "test-type" }, `name "test-type" must match`},
		{"a name with capitals", func(d *handoffv1.JourneyType) { d.Name = "journeyTypes/TestType" }, "must match ^journeyTypes/"},
		{"no steps", func(d *handoffv1.JourneyType) { d.Steps = nil }, "declares no steps"},
		{"an identity check naming no declared answer", func(d *handoffv1.JourneyType) { d.IdentityChecks = []string{"vehicle.plate", "vehicle.colour"} }, `identityChecks[1] names "vehicle.colour", which is not a declared answer`},
		{"an identity check naming a step", func(d *handoffv1.JourneyType) { d.IdentityChecks = []string{"vehicle"} }, `identityChecks[0] names "vehicle"`},
		{"an identity check listed twice", func(d *handoffv1.JourneyType) { d.IdentityChecks = []string{"vehicle.plate", "vehicle.plate"} }, `identityChecks[1] lists "vehicle.plate" twice`},
		{"a step without an id", func(d *handoffv1.JourneyType) { d.Steps[2].Id = "" }, "steps[2] has no id"},
		{"a step id with a dot", func(d *handoffv1.JourneyType) { d.Steps[2].Id = "all.done" }, `steps[2] has the id "all.done", which must match`},
		{"a step id starting with a digit", func(d *handoffv1.JourneyType) { d.Steps[2].Id = "2done" }, `steps[2] has the id "2done"`},
		{"two steps with one id", func(d *handoffv1.JourneyType) { d.Steps[2].Id = "vehicle" }, `step "vehicle" is declared twice (steps[0] and steps[2])`},
		{"an answer without a key", func(d *handoffv1.JourneyType) { answer(d, 0, 3).Key = "" }, `step "vehicle" answers[3] has no key`},
		{"an answer key with a dash", func(d *handoffv1.JourneyType) { answer(d, 0, 3).Key = "my-notes" }, `step "vehicle" answers[3] has the key "my-notes", which must match`},
		{"two answers with one key", func(d *handoffv1.JourneyType) { answer(d, 0, 3).Key = "plate" }, `step "vehicle" answer "plate" is declared twice`},
		{"next naming an undeclared step", func(d *handoffv1.JourneyType) { d.Steps[0].Next = []string{"payment", "nowhere"} }, `step "vehicle" lists "nowhere" in next, which is not a declared step`},
		{"next naming the step itself", func(d *handoffv1.JourneyType) { d.Steps[0].Next = []string{"vehicle"} }, `step "vehicle" lists itself in next`},
		{"an unknown kind", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Kind = "slider" }, `step "vehicle" answer "plate" has the kind "slider", which is not one of text, textarea, number, date, email, tel, select, checkbox`},
		{"options on a text answer", func(d *handoffv1.JourneyType) {
			answer(d, 0, 3).Options = []*handoffv1.AnswerOption{{Value: structpb.NewStringValue("x")}}
		}, `step "vehicle" answer "notes" has options, which only a select may have`},
		{"a select without options", func(d *handoffv1.JourneyType) { answer(d, 0, 2).Options = nil }, `step "vehicle" answer "level" is a select without options`},
		{"an option without a value", func(d *handoffv1.JourneyType) { answer(d, 0, 2).Options[1].Value = nil }, `step "vehicle" answer "level" options[1] has no value`},
		{"an option that does not fit the schema", func(d *handoffv1.JourneyType) {
			answer(d, 0, 2).Options[1].Value = structpb.NewStringValue("gold")
		}, `step "vehicle" answer "level" options[1] does not fit the answer's schema: must be one of the declared options`},
		{"a schema that is not JSON Schema", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Schema = schema(t, `{"type": "strin"}`) }, `step "vehicle" answer "plate" schema does not compile: it is not JSON Schema 2020-12: at '/type'`},
		{"a schema with a bad pattern", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Schema = schema(t, `{"pattern": "(("}`) }, `answer "plate" schema does not compile: it is not JSON Schema 2020-12: at '/pattern'`},
		{"a schema of another draft", func(d *handoffv1.JourneyType) {
			answer(d, 0, 0).Schema = schema(t, `{"$schema": "http://json-schema.org/draft-07/schema#"}`)
		}, `answer "plate" schema does not compile: $schema must be https://json-schema.org/draft/2020-12/schema or absent`},
		{"a schema with a dangling $ref", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Schema = schema(t, `{"$ref": "#/$defs/nope"}`) }, `answer "plate" schema does not compile: json-pointer in "#/$defs/nope" not found`},
		{"a schema with a remote $ref", func(d *handoffv1.JourneyType) {
			answer(d, 0, 0).Schema = schema(t, `{"$ref": "https://example.com/plate.json"}`)
		}, `answer "plate" schema does not compile: failing loading "https://example.com/plate.json": schemas may not load anything`},
		{"a schema with a relative $ref", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Schema = schema(t, `{"$ref": "other.json"}`) }, "schemas may not load anything"},
		{"a schema with a custom meta-schema", func(d *handoffv1.JourneyType) {
			answer(d, 0, 0).Schema = schema(t, `{"$schema": "https://example.com/meta.json"}`)
		}, "$schema must be https://json-schema.org/draft/2020-12/schema or absent"},
		{"maskKeepLast on an answer that is not sensitive", func(d *handoffv1.JourneyType) { answer(d, 0, 0).MaskKeepLast = 2 }, `step "vehicle" answer "plate" sets maskKeepLast, which only a sensitive answer may`},
		{"maskKeepLast above 8", func(d *handoffv1.JourneyType) { answer(d, 1, 0).MaskKeepLast = 9 }, `step "payment" answer "iban" maskKeepLast must be between 0 and 8, not 9`},
		{"maskKeepLast below 0", func(d *handoffv1.JourneyType) { answer(d, 1, 0).MaskKeepLast = -1 }, "maskKeepLast must be between 0 and 8, not -1"},
		{"a ttl under a minute", func(d *handoffv1.JourneyType) { d.Ttl = durationpb.New(59 * time.Second) }, "ttl must be between 1 minute and 400 days, not 59s"},
		{"a ttl over 400 days", func(d *handoffv1.JourneyType) { d.Ttl = durationpb.New(401 * 24 * time.Hour) }, "ttl must be between 1 minute and 400 days, not 9624h0m0s"},
		{"a negative remind_before", func(d *handoffv1.JourneyType) { d.RemindBefore = durationpb.New(-time.Hour) }, "remind_before is not a duration of 0 (never) or more"},
		{"a remind_before as long as the ttl", func(d *handoffv1.JourneyType) {
			d.Ttl, d.RemindBefore = durationpb.New(48*time.Hour), durationpb.New(48*time.Hour)
		}, "remind_before (48h0m0s) must be shorter than ttl (48h0m0s)"},
		{"a ttl that is no duration", func(d *handoffv1.JourneyType) { d.Ttl = &durationpb.Duration{Seconds: 60, Nanos: -1} }, "ttl is not a valid duration"},
		{"a title in no language", func(d *handoffv1.JourneyType) { d.Title["EN"] = "Test" }, `title has the language "EN", which must match`},
		{"a step label in no language", func(d *handoffv1.JourneyType) { d.Steps[0].Label["english"] = "Vehicle" }, `step "vehicle" label has the language "english"`},
		{"a step help in no language", func(d *handoffv1.JourneyType) { d.Steps[0].Help["en_GB"] = "x" }, `step "vehicle" help has the language "en_GB"`},
		{"an answer label in no language", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Label = map[string]string{"nl-nl": "Kenteken"} }, `step "vehicle" answer "plate" label has the language "nl-nl"`},
		{"an answer help in no language", func(d *handoffv1.JourneyType) { answer(d, 0, 0).Help = map[string]string{"": "x"} }, `step "vehicle" answer "plate" help has the language ""`},
		{"an option label in no language", func(d *handoffv1.JourneyType) { answer(d, 0, 2).Options[0].Label["e"] = "x" }, `step "vehicle" answer "level" options[0] label has the language "e"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := parse(t, testType)
			tt.breakIt(def)
			typ, err := journeytype.Compile(def)
			var invalid *journeytype.InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("Compile = %v, %v; want an *InvalidError", typ, err)
			}
			if len(invalid.Reasons) != 1 || !strings.Contains(invalid.Reasons[0], tt.want) {
				t.Fatalf("reasons %q; want one containing %q", invalid.Reasons, tt.want)
			}
		})
	}
}

func TestCompileCollectsEveryReason(t *testing.T) {
	def := parse(t, testType)
	def.Name = "journeyTypes/Broken"
	def.Steps[0].Id = "veh.icle"
	def.Steps[1].Answers[0].MaskKeepLast = 12
	def.Steps[1].Answers[1].Kind = "slider"
	def.Ttl = durationpb.New(time.Second)

	_, err := journeytype.Compile(def)
	var invalid *journeytype.InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("Compile: %v; want an *InvalidError", err)
	}
	want := []string{
		`name "journeyTypes/Broken" must match`,
		"ttl must be between 1 minute and 400 days",
		`steps[0] has the id "veh.icle"`,
		`step "payment" answer "iban" maskKeepLast must be between 0 and 8, not 12`,
		`step "payment" answer "pin" has the kind "slider"`,
	}
	if len(invalid.Reasons) != len(want) {
		t.Fatalf("reasons %q; want %d", invalid.Reasons, len(want))
	}
	for i, w := range want {
		if !strings.Contains(invalid.Reasons[i], w) {
			t.Errorf("reason %d is %q; want it to contain %q", i, invalid.Reasons[i], w)
		}
	}
	if invalid.Type != "Broken" {
		t.Errorf("Type = %q, want Broken", invalid.Type)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, `journey type "Broken" is invalid: `) || strings.Count(msg, "; ") != len(want)-1 {
		t.Errorf("Error() = %q; want the reasons joined with \"; \"", msg)
	}
}

func TestCompileRefusesASchemaThatRefersToAFile(t *testing.T) {
	// A schema the library would happily load from disk without our loader.
	path := filepath.Join(t.TempDir(), "plate.json")
	if err := os.WriteFile(path, []byte(`{"type": "string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	def := parse(t, testType)
	def.Steps[0].Answers[0].Schema = schema(t, `{"$ref": "file://`+filepath.ToSlash(path)+`"}`)

	_, err := journeytype.Compile(def)
	if err == nil || !strings.Contains(err.Error(), "schemas may not load anything") {
		t.Fatalf("Compile = %v; want the file $ref refused", err)
	}
}

func TestCompileAccepts(t *testing.T) {
	tests := []struct {
		name  string
		amend func(def *handoffv1.JourneyType)
	}{
		{"an answer without a kind or schema", func(*handoffv1.JourneyType) {}},
		{"a $ref inside the schema", func(d *handoffv1.JourneyType) {
			d.Steps[0].Answers[0].Schema = schema(t, `{"$defs": {"plate": {"type": "string"}}, "$ref": "#/$defs/plate"}`)
		}},
		{"the 2020-12 $schema", func(d *handoffv1.JourneyType) {
			d.Steps[0].Answers[0].Schema = schema(t, `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"}`)
		}},
		{"no ttl", func(d *handoffv1.JourneyType) { d.Ttl = nil }},
		{"a ttl of exactly 400 days", func(d *handoffv1.JourneyType) { d.Ttl = durationpb.New(400 * 24 * time.Hour) }},
		{"maskKeepLast 0 on a sensitive answer", func(d *handoffv1.JourneyType) { d.Steps[1].Answers[0].MaskKeepLast = 0 }},
		{"a step without answers", func(d *handoffv1.JourneyType) { d.Steps[0].Answers = nil }},
		{"next naming a later and an earlier step", func(d *handoffv1.JourneyType) { d.Steps[1].Next = []string{"vehicle", "done"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := parse(t, testType)
			tt.amend(def)
			if _, err := journeytype.Compile(def); err != nil {
				t.Fatalf("Compile: %v", err)
			}
		})
	}
}

func TestCompileKeepsItsOwnCopyOfTheDefinition(t *testing.T) {
	def := parse(t, testType)
	def.Version = 3
	typ, err := journeytype.Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	def.Steps[0].Id = "changed"
	if typ.Definition().GetSteps()[0].GetId() != "vehicle" || !typ.HasStep("vehicle") || typ.HasStep("changed") {
		t.Errorf("changing the definition after Compile changed the type")
	}
	if typ.ID() != "test-type" || typ.Version() != 3 || typ.FirstStep() != "vehicle" || typ.TTL() != time.Hour {
		t.Errorf("ID %q, Version %d, FirstStep %q, TTL %s", typ.ID(), typ.Version(), typ.FirstStep(), typ.TTL())
	}
}

func TestCompileRefusesNoDefinition(t *testing.T) {
	var invalid *journeytype.InvalidError
	if _, err := journeytype.Compile(nil); !errors.As(err, &invalid) {
		t.Fatalf("Compile(nil) = %v; want an *InvalidError", err)
	}
}
