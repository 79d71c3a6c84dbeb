//! The ledger: total merge into one shared consolidated map.
//!
//! Every send merges its batch into one shared map of net totals (zeros removed) and
//! appends the touched keys to a change log. A reader keeps a private snapshot of the
//! totals it has folded and obtains its net change since the last read as the
//! difference between the shared totals and that snapshot: over the keys logged since
//! its last read when that is shorter, otherwise by diffing the whole map against the
//! snapshot. The log is trimmed to what some reader still needs, and capped at a
//! multiple of the map's size; a reader left behind the cap diffs the whole map.
//! So state is O(net total + log cap) and a laggard's work is O(net total + snapshot),
//! but every send and every read takes the one shared lock.

use std::cmp::Ordering as Cmp;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::acc::Acc;
use crate::key::Key;
use crate::medium::{Endpoint, Folded, Medium};

/// The state behind the ledger's lock.
#[derive(Debug)]
struct State<K> {
    /// Net total of every send, zeros removed.
    total: BTreeMap<K, i64>,
    /// Keys touched by sends, in order; `log[i]` is at log position `base + i`.
    log: VecDeque<K>,
    /// Log position of `log[0]`.
    base: u64,
    /// Per reader: the log position it has read up to.
    seen: Vec<u64>,
}

/// State shared by all endpoints.
#[derive(Debug)]
struct Shared<K> {
    /// The ledger.
    state: Mutex<State<K>>,
    /// Log end position, published after each send so that idle readers skip the lock.
    end: AtomicU64,
}

/// The ledger medium.
#[derive(Debug)]
pub struct Ledger<K> {
    /// Shared state.
    shared: Arc<Shared<K>>,
}

/// A worker's ledger handle.
#[derive(Debug)]
pub struct LedgerEndpoint<K> {
    /// This worker's reader index.
    index: usize,
    /// Shared state.
    shared: Arc<Shared<K>>,
    /// Totals as of this reader's last read.
    snapshot: BTreeMap<K, i64>,
    /// Log position this reader has read up to.
    seen: u64,
}

impl<K: Key> Medium<K> for Ledger<K> {
    const NAME: &'static str = "ledger";
    type Endpoint = LedgerEndpoint<K>;

    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                total: BTreeMap::new(),
                log: VecDeque::new(),
                base: 0,
                seen: vec![0; workers],
            }),
            end: AtomicU64::new(0),
        });
        let endpoints = (0..workers)
            .map(|index| LedgerEndpoint {
                index,
                shared: Arc::clone(&shared),
                snapshot: BTreeMap::new(),
                seen: 0,
            })
            .collect();
        (Ledger { shared }, endpoints)
    }

    /// The map plus its retained log entries.
    fn live_nodes(&self) -> usize {
        1 + self.shared.state.lock().expect("ledger lock").log.len()
    }
}

impl<K: Key> Endpoint<K> for LedgerEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        let mut st = self.shared.state.lock().expect("ledger lock");
        for (k, d) in batch.drain(..) {
            st.log.push_back(k.clone());
            match st.total.get_mut(&k) {
                Some(v) => {
                    *v += d;
                    if *v == 0 {
                        st.total.remove(&k);
                    }
                }
                None => {
                    st.total.insert(k, d);
                }
            }
        }
        let cap = 2 * st.total.len() + 1024;
        if st.log.len() > cap {
            let cut = st.log.len() - cap / 2;
            st.log.drain(..cut);
            st.base += cut as u64;
        }
        // Release: pairs with the Acquire in `recv`; the store happens under the lock.
        self.shared
            .end
            .store(st.base + st.log.len() as u64, Ordering::Release);
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        // Acquire: pairs with the Release in `send`; a stale value is confirmed under the lock.
        if self.shared.end.load(Ordering::Acquire) == self.seen {
            return Folded::default();
        }
        let mut f = Folded {
            atoms: 1,
            ..Folded::default()
        };
        let mut st = self.shared.state.lock().expect("ledger lock");
        let end = st.base + st.log.len() as u64;
        let logged = end.saturating_sub(self.seen) as usize;
        if self.seen >= st.base && logged <= st.total.len() + self.snapshot.len() {
            let from = (self.seen - st.base) as usize;
            for k in st.log.range(from..) {
                f.scanned += 1;
                let cur = st.total.get(k).copied().unwrap_or(0);
                let old = self.snapshot.get(k).copied().unwrap_or(0);
                if cur != old {
                    acc.update(k.clone(), cur - old);
                    f.updates += 1;
                    set(&mut self.snapshot, k, cur);
                }
            }
        } else {
            let mut changes = Vec::new();
            let mut a = st.total.iter().peekable();
            let mut b = self.snapshot.iter().peekable();
            loop {
                match (a.peek(), b.peek()) {
                    (None, None) => break,
                    (Some(&(ka, &va)), None) => {
                        changes.push((ka.clone(), va));
                        a.next();
                    }
                    (None, Some(&(kb, _))) => {
                        changes.push((kb.clone(), 0));
                        b.next();
                    }
                    (Some(&(ka, &va)), Some(&(kb, &vb))) => match ka.cmp(kb) {
                        Cmp::Less => {
                            changes.push((ka.clone(), va));
                            a.next();
                        }
                        Cmp::Greater => {
                            changes.push((kb.clone(), 0));
                            b.next();
                        }
                        Cmp::Equal => {
                            if va != vb {
                                changes.push((ka.clone(), va));
                            }
                            a.next();
                            b.next();
                        }
                    },
                }
                f.scanned += 1;
            }
            for (k, cur) in changes {
                let old = self.snapshot.get(&k).copied().unwrap_or(0);
                set(&mut self.snapshot, &k, cur);
                acc.update(k, cur - old);
                f.updates += 1;
            }
        }
        self.seen = end;
        st.seen[self.index] = end;
        let min = st.seen.iter().copied().min().unwrap_or(end);
        if min > st.base {
            let cut = (min - st.base) as usize;
            st.log.drain(..cut);
            st.base = min;
        }
        f
    }
}

/// Sets `map[k] = v`, removing the entry when `v == 0`, cloning `k` only to insert.
fn set<K: Key>(map: &mut BTreeMap<K, i64>, k: &K, v: i64) {
    if v == 0 {
        map.remove(k);
    } else if let Some(x) = map.get_mut(k) {
        *x = v;
    } else {
        map.insert(k.clone(), v);
    }
}
