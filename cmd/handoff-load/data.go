package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// The principals of the driver's tokens file: the website saving and
// handing off, and the agents redeeming. Journey i is redeemed by agent
// i mod agents, always the same one, so no redeem meets a journey another
// agent holds; with as many agents as callers, each redeems about one code
// at a time, as a person at a desk does.
const (
	serviceToken     = "bench-website-secret"
	servicePrincipal = "bench-website"
)

func agentToken(journey, agents int) string {
	return fmt.Sprintf("bench-agent-%02d-secret", journey%agents)
}

// tokensYAML is the tokens file: the website and the agents, and with
// analyst an analyst, who reads what insight counted.
func tokensYAML(agents int, analyst bool) string {
	var b strings.Builder
	b.WriteString("tokens:\n")
	fmt.Fprintf(&b, "  - {token: %q, principal: %q, role: service}\n", serviceToken, servicePrincipal)
	if analyst {
		fmt.Fprintf(&b, "  - {token: %q, principal: %q, role: analyst}\n", analystToken, analystPrincipal)
	}
	for a := range agents {
		fmt.Fprintf(&b, "  - {token: %q, principal: \"bench-agent-%02d\", role: agent}\n", agentToken(a, agents), a)
	}
	return b.String()
}

// journeyName is the i-th preloaded journey: one per customer, as most
// customers have one quote open.
func journeyName(i int) string {
	return fmt.Sprintf("customers/c-%07d/journeys/quote", i)
}

var (
	makes   = []string{"Volvo", "Toyota", "Volkswagen", "Renault", "Peugeot", "Ford", "Skoda", "Kia"}
	models  = []string{"V60", "Corolla", "Golf", "Clio", "308", "Focus", "Octavia", "Niro"}
	first   = []string{"Anna", "Ravi", "Sofia", "Lucas", "Emma", "Noah", "Mila", "Daan"}
	last    = []string{"Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos"}
	streets = []string{"Keizersgracht", "Herengracht", "Prinsengracht", "Damrak", "Rokin", "Overtoom"}
	cities  = []string{"Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen"}
	covers  = []string{"third-party", "third-party-fire-theft", "comprehensive"}
	steps   = []string{"vehicle", "driver", "address", "cover", "payment", "review"}
)

// answers are the 20 answers of a car-insurance quote near its end, about
// 1 KiB as JSON, varied by i (and the same for the same i); with
// -typed-journeys, grouped under bench-quote.yaml's steps.
func answers(i int) map[string]any {
	if quote != nil {
		return byStep(quoteAnswers(i))
	}
	return quoteAnswers(i)
}

// quoteAnswers are answers(i) as a journey of no declared type holds them.
func quoteAnswers(i int) map[string]any {
	r := rand.New(rand.NewPCG(uint64(i), 0x9e3779b97f4a7c15))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	fn, ln := pick(first), pick(last)
	return map[string]any{
		"vehicle": map[string]any{
			"plate": plate(r), "make": pick(makes), "model": pick(models),
			"year": 2008 + r.IntN(18), "fuel": "petrol", "valueEur": 4000 + r.IntN(40000),
			"bodyType": "estate", "transmission": "automatic", "doors": 5,
		},
		"annualMileage": 5000 + r.IntN(30000),
		"usage":         "commuting",
		"parking":       "driveway",
		"driver": map[string]any{
			"firstName": fn, "lastName": ln,
			"birthDate":    fmt.Sprintf("%d-%02d-%02d", 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28)),
			"licenceSince": 1970 + r.IntN(55), "occupation": "software engineer",
			"licenceNumber": fmt.Sprintf("NL%010d", r.IntN(1e9)),
		},
		"email": fmt.Sprintf("%s.%d@example.com", fn, r.IntN(100000)),
		"phone": fmt.Sprintf("+31 6 %04d %04d", r.IntN(10000), r.IntN(10000)),
		"address": map[string]any{
			"street": fmt.Sprintf("%s %d", pick(streets), 1+r.IntN(400)), "postcode": fmt.Sprintf("%04d AB", 1000+r.IntN(9000)),
			"city": pick(cities), "country": "NL",
		},
		"claimsLast5Years": r.IntN(3),
		"convictions":      false,
		"additionalDrivers": []any{
			map[string]any{"name": pick(first) + " " + ln, "relation": "partner", "birthYear": 1950 + r.IntN(55), "licenceSince": 1970 + r.IntN(55)},
		},
		"cover":            pick(covers),
		"voluntaryExcess":  []int{0, 100, 250, 500}[r.IntN(4)],
		"noClaimsYears":    r.IntN(15),
		"startDate":        fmt.Sprintf("2027-%02d-01", 1+r.IntN(12)),
		"paymentFrequency": "monthly",
		"extras":           []any{"breakdown", "legal-cover"},
		"marketingConsent": r.IntN(2) == 0,
		"referral":         "comparison-site",
		"notes":            "Prefers a call after 17:00; a second car may follow next month, ask about a multi-car discount.",
	}
}

func plate(r *rand.Rand) string {
	const letters = "BDFGHJKLNPRSTVXZ"
	return fmt.Sprintf("%c%c-%03d-%c", letters[r.IntN(16)], letters[r.IntN(16)], r.IntN(1000), letters[r.IntN(16)])
}

// jsonSize is the size of the answers as compact JSON: what the journey's
// data would take as the raw JSON a website sends.
func jsonSize(a map[string]any) int {
	b, err := json.Marshal(a)
	if err != nil {
		panic(err) // only maps, strings, numbers and bools
	}
	return len(b)
}

// newJourney is the i-th journey as the service creates it: active, on the
// web channel, with its STARTED touchpoint.
func newJourney(i int, now time.Time) (*handoffv1.Journey, *handoffv1.Touchpoint, error) {
	data, err := structpb.NewStruct(answers(i))
	if err != nil {
		return nil, nil, err
	}
	ts := timestamppb.New(now.UTC().Truncate(time.Microsecond))
	j := &handoffv1.Journey{
		Name:        journeyName(i),
		JourneyType: "car-insurance-quote", // of no declared type
		State:       handoffv1.JourneyState_JOURNEY_STATE_ACTIVE,
		Step:        steps[i%len(steps)],
		Data:        data,
		Channel:     handoffv1.Channel_CHANNEL_WEB,
		CreateTime:  ts,
		UpdateTime:  ts,
	}
	if quote != nil {
		j.JourneyType, j.JourneyTypeVersion = quote.id(), quote.version
	}
	return j, progress(j, handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED), nil
}

// progress is the touchpoint the service records for the website's change.
func progress(j *handoffv1.Journey, kind handoffv1.TouchpointKind) *handoffv1.Touchpoint {
	return &handoffv1.Touchpoint{
		Time:    j.GetUpdateTime(),
		Channel: j.GetChannel(),
		Actor:   &handoffv1.Actor{Id: servicePrincipal, Role: handoffv1.Role_ROLE_SERVICE},
		Kind:    kind,
		Step:    j.GetStep(),
	}
}

// pageSave is what one "next" click on the website saves: the step it
// moves to and three answers of the page, each replacing an answer of about
// the same size, so journeys neither grow nor shrink under load.
type pageSave struct {
	step    string
	mileage int
	plate   string
	parking string
}

func newPageSave(seq uint64) pageSave {
	r := rand.New(rand.NewPCG(seq, 7))
	return pageSave{
		step:    steps[seq%uint64(len(steps))],
		mileage: 5000 + r.IntN(30000),
		plate:   plate(r),
		parking: []string{"driveway", "garage", "street"}[r.IntN(3)],
	}
}

// data is the save's answers as the request carries them (with
// -typed-journeys, under bench-quote.yaml's steps: all three in vehicle).
func (p pageSave) data() map[string]any {
	d := map[string]any{
		"annualMileage": p.mileage,
		"vehicle":       map[string]any{"plate": p.plate},
		"parking":       p.parking,
	}
	if quote != nil {
		return byStep(d)
	}
	return d
}

// structData is the save's answers as a gRPC request carries them.
func (p pageSave) structData() (*structpb.Struct, error) { return structpb.NewStruct(p.data()) }

// json is the REST body of the save.
func (p pageSave) json() ([]byte, error) {
	return json.Marshal(map[string]any{"step": p.step, "data": p.data()})
}

// applyTo merges the save into a journey answer by answer, as the service
// does for a save without a mask: an object's answers one by one (the
// plate inside vehicle), anything else whole.
func (p pageSave) applyTo(j *handoffv1.Journey) {
	j.Step = p.step
	save, err := structpb.NewStruct(p.data())
	if err != nil {
		panic(err) // only maps, strings and numbers
	}
	f := j.GetData().GetFields()
	for k, v := range save.GetFields() {
		sub, into := v.GetStructValue(), f[k].GetStructValue()
		if sub == nil || into == nil {
			f[k] = v
			continue
		}
		for sk, sv := range sub.GetFields() {
			into.GetFields()[sk] = sv
		}
	}
}

// spread maps a request number to a journey out of n, evenly and without
// a pattern the store could favour (splitmix64).
func spread(seq uint64, salt uint64, n int) int {
	z := seq + salt + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(n))
}
