package coord

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var testDelivery = DeliveryKey{Sink: "hr-main", EmployeeID: "E1001", Date: "2024-05-06", Shift: "day", Version: 2}

func TestDeliveriesClaimAcrossReplicas(t *testing.T) {
	prefix := testPrefix(t)
	rdb := newClient(t)
	a := NewDeliveries(rdb, prefix, 0)
	b := NewDeliveries(newClient(t), prefix, 0)
	ctx := t.Context()
	key := NewKeys(prefix).Deliver(testDelivery)

	lease, ok, err := a.Claim(ctx, testDelivery)
	if err != nil || !ok {
		t.Fatalf("first claim = %v, %v; want it claimed", ok, err)
	}
	if lease.Key() != key {
		t.Errorf("lease key = %q, want %q", lease.Key(), key)
	}
	assertTTL(t, rdb, key, DefaultLeaseTTL)
	if _, ok, err := b.Claim(ctx, testDelivery); err != nil || ok {
		t.Fatalf("claim while leased = %v, %v; want refused", ok, err)
	}
	next := testDelivery
	next.Version++
	if _, ok, err := b.Claim(ctx, next); err != nil || !ok {
		t.Fatalf("claim of the next version = %v, %v; want it claimed", ok, err)
	}

	// The send failed: release so that the retry can go ahead anywhere.
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	retry, ok, err := b.Claim(ctx, testDelivery)
	if err != nil || !ok {
		t.Fatalf("claim after release = %v, %v; want it claimed", ok, err)
	}
	if err := retry.Refresh(ctx, 20*time.Minute); err != nil {
		t.Fatal(err)
	}
	assertTTL(t, rdb, key, 20*time.Minute)
	if done, err := a.Delivered(ctx, testDelivery); err != nil || done {
		t.Fatalf("Delivered before Done = %v, %v; want false", done, err)
	}

	// The sink acknowledged and the delivery log has it.
	if err := retry.Done(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	assertTTL(t, rdb, key, time.Hour)
	if done, err := a.Delivered(ctx, testDelivery); err != nil || !done {
		t.Fatalf("Delivered after Done = %v, %v; want true", done, err)
	}
	if _, ok, err := a.Claim(ctx, testDelivery); err != nil || ok {
		t.Fatalf("claim of a delivered key = %v, %v; want refused", ok, err)
	}
	if err := retry.Done(ctx, time.Hour); err != nil {
		t.Errorf("Done twice: %v", err)
	}
}

func TestLeaseOwnerSemantics(t *testing.T) {
	prefix := testPrefix(t)
	rdb := newClient(t)
	d := NewDeliveries(rdb, prefix, time.Minute)
	ctx := t.Context()
	key := NewKeys(prefix).Deliver(testDelivery)

	stale, ok, err := d.Claim(ctx, testDelivery)
	if err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	// The lease runs out while its sender hangs; another replica claims.
	if err := rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	current, ok, err := d.Claim(ctx, testDelivery)
	if err != nil || !ok {
		t.Fatalf("claim after expiry = %v, %v", ok, err)
	}
	for name, act := range map[string]func() error{
		"Refresh": func() error { return stale.Refresh(ctx, time.Hour) },
		"Release": func() error { return stale.Release(ctx) },
		"Done":    func() error { return stale.Done(ctx, time.Hour) },
	} {
		if err := act(); !errors.Is(err, ErrNotOwner) {
			t.Errorf("%s by the former owner = %v, want ErrNotOwner", name, err)
		}
	}
	if done, err := d.Delivered(ctx, testDelivery); err != nil || done {
		t.Errorf("Delivered = %v, %v after the former owner's Done; want false", done, err)
	}
	assertTTL(t, rdb, key, time.Minute)

	// A send that outlived its expired lease may still mark it done.
	if err := rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if err := current.Done(ctx, 0); err != nil {
		t.Fatalf("Done after the lease expired: %v", err)
	}
	assertTTL(t, rdb, key, DefaultDoneTTL)
}

func TestDeliveriesRejectIncompleteKeys(t *testing.T) {
	d := NewDeliveries(newClient(t), testPrefix(t), 0)
	for _, tt := range []struct {
		mod  func(*DeliveryKey)
		want string
	}{
		{func(k *DeliveryKey) { k.Sink = "" }, "Sink is empty"},
		{func(k *DeliveryKey) { k.EmployeeID = "" }, "EmployeeID is empty"},
		{func(k *DeliveryKey) { k.Date = "" }, "Date is empty"},
		{func(k *DeliveryKey) { k.Version = 0 }, "Version 0 is below 1"},
	} {
		key := testDelivery
		tt.mod(&key)
		if _, _, err := d.Claim(t.Context(), key); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Claim(%+v) error = %v, want %q", key, err, tt.want)
		}
		if _, err := d.Delivered(t.Context(), key); err == nil {
			t.Errorf("Delivered(%+v) accepted an incomplete key", key)
		}
	}
	var zero Lease
	for name, err := range map[string]error{
		"Refresh": zero.Refresh(t.Context(), time.Minute),
		"Release": zero.Release(t.Context()),
		"Done":    zero.Done(t.Context(), 0),
	} {
		if err == nil {
			t.Errorf("zero Lease %s succeeded", name)
		}
	}
}

// TestDeliveriesInBatches: ClaimAll, DoneAll and ReleaseAll act as Claim,
// Done and Release do on each key, a batch in one round trip.
func TestDeliveriesInBatches(t *testing.T) {
	prefix := testPrefix(t)
	hook := &countHook{}
	rdb := newClient(t, hook)
	a := NewDeliveries(rdb, prefix, 0)
	b := NewDeliveries(newClient(t), prefix, 0)
	ctx := t.Context()
	keys := make([]DeliveryKey, 4)
	for i := range keys {
		keys[i] = testDelivery
		keys[i].EmployeeID = fmt.Sprintf("E%d", i)
	}
	if _, ok, err := b.Claim(ctx, keys[1]); err != nil || !ok {
		t.Fatalf("b's claim = %v, %v", ok, err)
	}
	// Open the pipelines' connection first: its handshake is not a
	// claim's cost.
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error { return p.Ping(ctx).Err() }); err != nil {
		t.Fatal(err)
	}

	hook.reset()
	leases, ok, err := a.ClaimAll(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, true, true}; !slices.Equal(ok, want) {
		t.Fatalf("ClaimAll ok = %v, want %v (key 1 is b's)", ok, want)
	}
	if leases[1] != (Lease{}) || leases[0].Key() != NewKeys(prefix).Deliver(keys[0]) {
		t.Errorf("leases = %+v; want the zero Lease for the key not claimed", leases)
	}
	if got := hook.pipelines.Load() + hook.single.Load(); got != 1 {
		t.Errorf("ClaimAll of 4 keys took %d round trips, want 1", got)
	}
	assertTTL(t, rdb, leases[0].Key(), DefaultLeaseTTL)
	if _, ok, err := b.ClaimAll(ctx, keys); err != nil || slices.Contains(ok, true) {
		t.Fatalf("b's ClaimAll while a holds them = %v, %v; want none", ok, err)
	}

	// Key 3's lease expired and b claimed it: a's Done must not touch it.
	if err := rdb.Del(ctx, leases[3].Key()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.Claim(ctx, keys[3]); err != nil || !ok {
		t.Fatalf("b's claim after expiry = %v, %v", ok, err)
	}
	// The server lost its scripts (a restart): they are loaded again.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	hook.reset()
	err = a.DoneAll(ctx, []Lease{leases[0], leases[2], leases[3]}, time.Hour)
	if !errors.Is(err, ErrNotOwner) || !strings.Contains(err.Error(), leases[3].Key()) {
		t.Errorf("DoneAll with b's key 3 = %v; want ErrNotOwner naming it", err)
	}
	for i, want := range []bool{true, false, true, false} {
		if done, err := b.Delivered(ctx, keys[i]); err != nil || done != want {
			t.Errorf("key %d delivered = %v, %v; want %v", i, done, err, want)
		}
	}
	if got := hook.pipelines.Load(); got > 2 {
		t.Errorf("DoneAll took %d pipelines, want 1 (2 with the scripts reloaded)", got)
	}
	assertTTL(t, rdb, leases[0].Key(), time.Hour)

	// A release frees the keys still held, and leaves the others' alone.
	if _, ok, err := a.ClaimAll(ctx, keys); err != nil || slices.Contains(ok, true) {
		t.Fatalf("ClaimAll of done and held keys = %v, %v; want none", ok, err)
	}
	next := slices.Clone(keys)
	for i := range next {
		next[i].Version++
	}
	leases, _, err = a.ClaimAll(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseAll(ctx, leases); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.ClaimAll(ctx, next); err != nil || slices.Contains(ok, false) {
		t.Errorf("b's ClaimAll after a's ReleaseAll = %v, %v; want every key", ok, err)
	}
	if err := a.ReleaseAll(ctx, leases[:1]); !errors.Is(err, ErrNotOwner) {
		t.Errorf("ReleaseAll of a key b holds = %v, want ErrNotOwner", err)
	}
	if err := a.DoneAll(ctx, []Lease{{}}, 0); err == nil {
		t.Error("DoneAll of the zero Lease succeeded")
	}
	if _, _, err := a.ClaimAll(ctx, []DeliveryKey{{Sink: "hr"}}); err == nil {
		t.Error("ClaimAll of an incomplete key succeeded")
	}
}
