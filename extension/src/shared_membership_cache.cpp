// shared_membership_cache.cpp: see shared_membership_cache.hpp. A second level
// below each backend's own cache (membership_cache.cpp), so a backend's first
// enter() for a membership another backend has read under the current
// generation opens none of pg_tenancy's tables, and a generation bump costs
// the server one read per membership instead of one per backend.
//
// Fixed slots of 512 bytes in shared memory, four to a bucket, with no lock:
// each slot carries a version that is odd while a backend writes it. A writer
// claims the slot with a compare-and-swap (or gives up: the cache is only an
// offer) and publishes it with a write barrier and an even version; a reader
// copies the slot between two reads of that version and drops the copy if it
// changed. So nobody waits, a backend dying mid-write (only memcpy runs there,
// nothing that can raise an error) leaves at worst one slot nobody reads until
// the server restarts its shared memory, and an entry read is whole.
//
// An entry holds the database, the user and the organization it answers for,
// and the generation it was read under: it answers only a backend of that
// database that read that same generation before its own look-up would have
// taken a snapshot, which is when that backend's own cache would answer too
// (membership_generation.hpp says when the generation moves).
extern "C" {
#include "postgres.h"

#include "access/transam.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
}

#include <cstddef>
#include <cstring>

#include "pg_tenancy/membership_generation.hpp"
#include "pg_tenancy/shared_membership_cache.hpp"

namespace pg_tenancy {
int shared_membership_cache_size = 8192;
}

namespace {

constexpr int kWays = 4;
constexpr std::size_t kSlotBytes = 512;

struct SlotKey {
	Oid database;
	std::uint8_t user[16];
	std::uint8_t org[16];
};

struct SlotHead {
	pg_atomic_uint32 version; // odd while a backend writes the slot
	SlotKey key;              // database InvalidOid: never written
	std::uint64_t generation;
	bool found;
	std::uint8_t role[16];
	char role_code[64];
	std::uint16_t permissions_len;
};

struct Slot {
	SlotHead head;
	char permissions[kSlotBytes - sizeof(SlotHead)]; // not NUL-terminated
};
static_assert(sizeof(Slot) == kSlotBytes, "a slot is 512 bytes");
static_assert(sizeof(pg_tenancy::MembershipInfo::role_code) == sizeof(SlotHead::role_code), "role codes fit a slot");

// What the backends of one database read their shared entries from
// (RecordSharedCatalog()): pg_tenancy's relations and the hash values of its
// change triggers' functions, as the latest backend to look found them.
constexpr int kDatabases = 64;
constexpr int kRelations = 6;
constexpr int kFunctions = 8;

struct RecordedCatalog {
	Oid database;         // InvalidOid: unused
	std::uint64_t record; // moves whenever the rest changes
	// The next transaction id when it last changed (UINT64_MAX until read): a
	// transaction that started before it may have processed invalidations of
	// these relations when they were not recorded, so nothing it may still
	// hide is shared (ShareMembership()).
	std::uint64_t horizon;
	int relation_count;
	int function_count;
	Oid relations[kRelations];
	uint32 function_hashes[kFunctions];
};

// The slots follow the header, a cache line further on.
struct SharedCache {
	slock_t catalogs_lock;
	std::uint32_t buckets;
	std::uint64_t last_record; // record numbers are unique across databases and slots
	RecordedCatalog catalogs[kDatabases];
};
constexpr std::size_t kHeaderBytes = (sizeof(SharedCache) + PG_CACHE_LINE_SIZE - 1) & ~(PG_CACHE_LINE_SIZE - 1);

SharedCache *cache = nullptr;
Slot *slots = nullptr;
std::int64_t hits = 0, misses = 0;

shmem_request_hook_type previous_request_hook = nullptr;
shmem_startup_hook_type previous_startup_hook = nullptr;

std::uint32_t Buckets() {
	return static_cast<std::uint32_t>(pg_tenancy::shared_membership_cache_size / kWays);
}

Size CacheBytes() {
	return add_size(kHeaderBytes, mul_size(mul_size(Buckets(), kWays), sizeof(Slot)));
}

void RequestShmem() {
	if (previous_request_hook)
		previous_request_hook();
	if (Buckets() > 0)
		RequestAddinShmemSpace(CacheBytes());
}

void StartupShmem() {
	if (previous_startup_hook)
		previous_startup_hook();
	if (Buckets() == 0)
		return;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	bool found = false;
	auto *state =
	    static_cast<SharedCache *>(ShmemInitStruct("pg_tenancy shared membership cache", CacheBytes(), &found));
	auto *state_slots = reinterpret_cast<Slot *>(reinterpret_cast<char *>(state) + kHeaderBytes);
	if (!found) {
		std::memset(state, 0, kHeaderBytes);
		SpinLockInit(&state->catalogs_lock);
		state->buckets = Buckets();
		for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(state->buckets) * kWays; i++) {
			std::memset(&state_slots[i], 0, sizeof(Slot));
			pg_atomic_init_u32(&state_slots[i].head.version, 0);
		}
	}
	LWLockRelease(AddinShmemInitLock);
	cache = state;
	slots = state_slots;
}

SlotKey MakeKey(const std::uint8_t user[16], const std::uint8_t org[16]) {
	SlotKey key;
	std::memset(&key, 0, sizeof key); // no padding bytes in the comparison
	key.database = MyDatabaseId;
	std::memcpy(key.user, user, 16);
	std::memcpy(key.org, org, 16);
	return key;
}

Slot *Bucket(const SlotKey &key) {
	const uint32 hash = hash_bytes(reinterpret_cast<const unsigned char *>(&key), sizeof key);
	return &slots[static_cast<std::uint64_t>(hash % cache->buckets) * kWays];
}

bool SameKey(const SlotKey &a, const SlotKey &b) {
	return std::memcmp(&a, &b, sizeof a) == 0;
}

// This database's record, claimed if `claim`; nullptr if there is none (or no
// room). Under catalogs_lock. A record keeps its database once claimed, so
// each backend looks for it until it has found it, then goes straight to it:
// the invalidation callbacks of a busy server come here often.
RecordedCatalog *CatalogOfThisDatabase(bool claim) {
	static int found = -1;
	if (found >= 0 && cache->catalogs[found].database == MyDatabaseId)
		return &cache->catalogs[found];
	if (!OidIsValid(MyDatabaseId)) // a process connected to no database
		return nullptr;
	for (int i = 0; i < kDatabases; i++)
		if (cache->catalogs[i].database == MyDatabaseId) {
			found = i;
			return &cache->catalogs[i];
		}
	for (int i = 0; claim && i < kDatabases; i++)
		if (cache->catalogs[i].database == InvalidOid) {
			std::memset(&cache->catalogs[i], 0, sizeof(RecordedCatalog));
			cache->catalogs[i].database = MyDatabaseId;
			found = i;
			return &cache->catalogs[i];
		}
	return nullptr;
}

// May the transaction `xid` (a top-level one, running when a snapshot was
// taken) be one of this database's? Whatever cannot be told apart counts as
// one: a prepared transaction (no backend), one that ended meanwhile, one
// whose backend ended or moved on while this looked.
bool MayRunInThisDatabase(TransactionId xid) {
	const int pid = BackendXidGetPid(xid);
	if (pid == 0)
		return true;
	const PGPROC *proc = BackendPidGetProc(pid);
	if (proc == nullptr)
		return true;
	const Oid database = proc->databaseId;
	return database == MyDatabaseId || BackendXidGetPid(xid) != pid;
}

template <typename T, std::size_t N> bool Holds(const T (&items)[N], int count, T item) {
	for (int i = 0; i < count; i++)
		if (items[i] == item)
			return true;
	return false;
}

template <typename T, std::size_t N> bool SameItems(const T (&items)[N], int count, const T *others, int other_count) {
	if (count != other_count)
		return false;
	for (int i = 0; i < other_count; i++)
		if (!Holds(items, count, others[i]))
			return false;
	return true;
}

// Does this database's record exist and satisfy `covers`? Under the
// spinlock: `covers` only compares.
template <typename Covers> bool RecordCovers(Covers &&covers) {
	if (cache == nullptr)
		return false;
	SpinLockAcquire(&cache->catalogs_lock);
	const RecordedCatalog *recorded = CatalogOfThisDatabase(false);
	const bool covered = recorded != nullptr && covers(*recorded);
	SpinLockRelease(&cache->catalogs_lock);
	return covered;
}

} // namespace

namespace pg_tenancy {

void RequestSharedMembershipCacheShmem() {
	previous_request_hook = shmem_request_hook;
	shmem_request_hook = RequestShmem;
	previous_startup_hook = shmem_startup_hook;
	shmem_startup_hook = StartupShmem;
}

std::uint64_t RecordSharedCatalog(const std::uint32_t *relations, int relation_count,
                                  const std::uint32_t *function_hashes, int function_count) {
	if (cache == nullptr || !OidIsValid(MyDatabaseId) || relation_count > kRelations || function_count > kFunctions)
		return 0;
	static_assert(sizeof(Oid) == sizeof(std::uint32_t), "relations are recorded as Oids");
	const Oid *relation_oids = reinterpret_cast<const Oid *>(relations);
	SpinLockAcquire(&cache->catalogs_lock);
	RecordedCatalog *recorded = CatalogOfThisDatabase(true);
	bool changed = false;
	if (recorded != nullptr &&
	    (!SameItems(recorded->relations, recorded->relation_count, relation_oids, relation_count) ||
	     !SameItems(recorded->function_hashes, recorded->function_count, function_hashes, function_count))) {
		std::memcpy(recorded->relations, relation_oids, sizeof(Oid) * relation_count);
		recorded->relation_count = relation_count;
		std::memcpy(recorded->function_hashes, function_hashes, sizeof(uint32) * function_count);
		recorded->function_count = function_count;
		// From one counter: a backend still holding the number of a freed
		// record never matches another.
		recorded->record = ++cache->last_record;
		recorded->horizon = UINT64_MAX;
		changed = true;
	}
	const std::uint64_t record = recorded != nullptr ? recorded->record : 0;
	SpinLockRelease(&cache->catalogs_lock);
	if (changed) {
		// Entries read from what was recorded before are not covered any
		// more: retired (the record starts at 1, so a first record retires
		// nothing that could matter).
		BumpMembershipGeneration();
		// Read after the change: every transaction that took in an
		// invalidation of these relations before they were recorded, when
		// none of them was marked for it (membership_generation.hpp), had its
		// id by then (it changed a catalog or a row).
		const std::uint64_t horizon = U64FromFullTransactionId(ReadNextFullTransactionId());
		SpinLockAcquire(&cache->catalogs_lock);
		if (recorded->database == MyDatabaseId && recorded->record == record)
			recorded->horizon = horizon;
		SpinLockRelease(&cache->catalogs_lock);
	}
	return record;
}

bool SharedCatalogCoversRelation(std::uint32_t relation) {
	return RecordCovers([relation](const RecordedCatalog &recorded) {
		return relation == InvalidOid || Holds(recorded.relations, recorded.relation_count, static_cast<Oid>(relation));
	});
}

bool SharedCatalogCoversFunction(std::uint32_t hash) {
	return RecordCovers([hash](const RecordedCatalog &recorded) {
		return hash == 0 || Holds(recorded.function_hashes, recorded.function_count, hash);
	});
}

void ForgetSharedCatalogOf(std::uint32_t database) {
	if (cache == nullptr || database == InvalidOid)
		return;
	SpinLockAcquire(&cache->catalogs_lock);
	for (RecordedCatalog &recorded : cache->catalogs)
		if (recorded.database == database)
			recorded.database = InvalidOid;
	SpinLockRelease(&cache->catalogs_lock);
	BumpMembershipGeneration();
}

bool FindSharedMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                          MembershipInfo *info) {
	if (cache == nullptr)
		return false;
	const SlotKey key = MakeKey(user, org);
	Slot *bucket = Bucket(key);
	for (int way = 0; way < kWays; way++) {
		Slot *slot = &bucket[way];
		const uint32 before = pg_atomic_read_u32(&slot->head.version);
		if (before & 1)
			continue;
		pg_read_barrier();
		SlotHead head;
		std::memcpy(&head, &slot->head, sizeof head);
		if (!SameKey(head.key, key) || head.generation != generation)
			continue;
		// A torn copy may carry any length: bounded before it is used.
		const std::size_t length = head.permissions_len < sizeof slot->permissions ? head.permissions_len : 0;
		char permissions[sizeof slot->permissions];
		std::memcpy(permissions, slot->permissions, length);
		pg_read_barrier();
		if (pg_atomic_read_u32(&slot->head.version) != before)
			break; // rewritten while copied: a miss, not a wait
		hits++;
		std::memset(info, 0, sizeof *info);
		info->found = head.found;
		if (head.found) {
			std::memcpy(info->role, head.role, sizeof info->role);
			std::memcpy(info->role_code, head.role_code, sizeof info->role_code);
			info->role_code[sizeof info->role_code - 1] = '\0';
			info->permissions = pnstrdup(permissions, length);
			info->permissions_len = length;
		}
		return true;
	}
	misses++;
	return false;
}

void ShareMembership(const std::uint8_t user[16], const std::uint8_t org[16], std::uint64_t generation,
                     const MembershipInfo &info, std::uint64_t record, std::uint32_t snapshot_xmin,
                     std::uint32_t snapshot_xmax, const std::uint32_t *snapshot_running, int snapshot_running_count) {
	const std::size_t length = info.found && info.permissions ? info.permissions_len : 0;
	if (cache == nullptr || record == 0 || length >= sizeof(Slot::permissions) || !TransactionIdIsNormal(snapshot_xmin))
		return;
	// The snapshot's xmin as a full transaction id (it is at most the next
	// one, and less than 2^31 behind it).
	const FullTransactionId next = ReadNextFullTransactionId();
	const uint32 epoch = EpochFromFullTransactionId(next);
	const bool previous_epoch = snapshot_xmin > XidFromFullTransactionId(next);
	if (previous_epoch && epoch == 0)
		return;
	const std::uint64_t xmin =
	    U64FromFullTransactionId(FullTransactionIdFromEpochAndXid(epoch - (previous_epoch ? 1 : 0), snapshot_xmin));
	// Read from what is still recorded? If it was recorded anew after
	// `generation` was read, the entry is retired already; if before, its
	// relations are not the recorded ones, whose invalidations would not
	// retire it: either way, not shared.
	SpinLockAcquire(&cache->catalogs_lock);
	const RecordedCatalog *recorded = CatalogOfThisDatabase(false);
	const bool current = recorded != nullptr && recorded->record == record;
	const std::uint64_t horizon = current ? recorded->horizon : UINT64_MAX;
	SpinLockRelease(&cache->catalogs_lock);
	if (!current || horizon == UINT64_MAX)
		return;
	// Nor if a transaction of this database that was open when they were
	// recorded could still hide a change from the snapshot (one of another
	// database, an autovacuum worker's say, takes in none of these
	// invalidations). The horizon is then less than 2^31 ids behind the
	// snapshot, so 32-bit ids compare. The snapshot lists the transactions
	// it saw running below its xmax only: one at or past it is not listed.
	if (xmin < horizon) {
		const TransactionId horizon_xid = XidFromFullTransactionId(FullTransactionIdFromU64(horizon));
		if (TransactionIdPrecedes(snapshot_xmax, horizon_xid))
			return;
		for (int i = 0; i < snapshot_running_count; i++)
			if (TransactionIdPrecedes(snapshot_running[i], horizon_xid) && MayRunInThisDatabase(snapshot_running[i]))
				return;
	}
	const SlotKey key = MakeKey(user, org);
	Slot *bucket = Bucket(key);
	// The slot of this key, else one nobody can use any more (empty, or of an
	// older generation), else the next in turn. Read without the version: a
	// torn read only picks another slot.
	static unsigned turn = 0;
	Slot *target = nullptr;
	for (int way = 0; way < kWays && target == nullptr; way++)
		if (SameKey(bucket[way].head.key, key))
			target = &bucket[way];
	for (int way = 0; way < kWays && target == nullptr; way++)
		if (bucket[way].head.key.database == InvalidOid || bucket[way].head.generation < generation)
			target = &bucket[way];
	if (target == nullptr)
		target = &bucket[turn++ % kWays];
	uint32 version = pg_atomic_read_u32(&target->head.version);
	if ((version & 1) || !pg_atomic_compare_exchange_u32(&target->head.version, &version, version + 1))
		return; // another backend is writing it
	// Claimed (the compare-and-swap is a full barrier): plain copies only
	// until the slot is published.
	target->head.key = key;
	target->head.generation = generation;
	target->head.found = info.found;
	std::memcpy(target->head.role, info.role, sizeof target->head.role);
	std::memcpy(target->head.role_code, info.role_code, sizeof target->head.role_code);
	target->head.permissions_len = static_cast<std::uint16_t>(length);
	if (length > 0)
		std::memcpy(target->permissions, info.permissions, length);
	pg_write_barrier();
	pg_atomic_write_u32(&target->head.version, version + 2);
}

CacheStatistics SharedMembershipCacheStatistics(std::uint64_t generation) {
	CacheStatistics stats{};
	stats.capacity = cache != nullptr ? static_cast<std::int64_t>(cache->buckets) * kWays : 0;
	for (std::int64_t i = 0; i < stats.capacity; i++)
		if (slots[i].head.key.database != InvalidOid && slots[i].head.generation == generation)
			stats.entries++;
	stats.hits = hits;
	stats.misses = misses;
	stats.evictions = -1;
	stats.bytes = cache != nullptr ? static_cast<std::int64_t>(CacheBytes()) : 0;
	stats.byte_limit = stats.bytes;
	return stats;
}

} // namespace pg_tenancy
