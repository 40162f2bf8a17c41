package coord

import (
	"errors"
	"strings"
	"testing"
	"time"
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
