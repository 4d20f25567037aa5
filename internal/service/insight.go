package service

import (
	"context"
	"strconv"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/insight"
	"github.com/journeyhandoff/handoff/internal/journeytype"
)

// defaultInsightDays is the range read when the request names no start.
const defaultInsightDays = 30

// GetJourneyTypeInsight reads a type's journey map over a range of days
// (docs/insight.md): counts only, so nothing in it names a customer,
// journey, agent or answer, and reading it is not a staff read of any.
func (a TypesAPI) GetJourneyTypeInsight(ctx context.Context, req *handoffv1.GetJourneyTypeInsightRequest) (*handoffv1.JourneyTypeInsight, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(req.GetName(), journeytype.NamePrefix), "/insight")
	today := a.svc.now().UTC().Truncate(24 * time.Hour)
	to := today
	if req.GetTo() != "" {
		t, err := time.Parse(time.DateOnly, req.GetTo())
		if err != nil {
			return nil, invalidArgument("to", "INVALID_DATE", "to "+req.GetTo()+" is not a day (YYYY-MM-DD)")
		}
		to = t
	}
	from := to.AddDate(0, 0, 1-defaultInsightDays)
	if req.GetFrom() != "" {
		t, err := time.Parse(time.DateOnly, req.GetFrom())
		if err != nil {
			return nil, invalidArgument("from", "INVALID_DATE", "from "+req.GetFrom()+" is not a day (YYYY-MM-DD)")
		}
		from = t
	}
	if from.After(to) {
		return nil, invalidArgument("from", "INVALID_RANGE", "from "+from.Format(time.DateOnly)+" is after to "+to.Format(time.DateOnly))
	}
	days := insight.Days(from, to)
	if len(days) > insight.MaxDays {
		return nil, invalidArgument("from", "RANGE_TOO_LONG", "the range is "+strconv.Itoa(len(days))+" days; read at most "+strconv.Itoa(insight.MaxDays)+" at once")
	}
	def, err := a.svc.store.JourneyType(ctx, id, 0)
	if err != nil {
		return nil, typeError(journeytype.NamePrefix+id, err)
	}
	steps := make([]string, 0, len(def.GetSteps()))
	moments := map[string]bool{}
	for _, s := range def.GetSteps() {
		steps = append(steps, s.GetId())
		if s.GetMomentOfTruth() {
			moments[s.GetId()] = true
		}
	}
	byDay, err := a.svc.store.InsightDays(ctx, id, days)
	if err != nil {
		return nil, err
	}
	out := insight.Summarize(req.GetName(), days[0], days[len(days)-1], byDay, steps, moments, today.Format(time.DateOnly))
	out.Title = def.GetTitle()
	for i, s := range def.GetSteps() {
		out.Steps[i].Label = s.GetLabel()
	}
	return out, nil
}
