//! Damage to a stored value, for the `store` fuzz body: a whole [`MemoryStore`](super::MemoryStore)
//! snapshot, changed value by value by 4-byte operations, as a disk or an operator's mistake
//! could change it. Compiled with the `fuzzing` feature only.

use crate::store::memory::Mem;
use crate::store::Space;

/// One stored value a damage operation can hit.
#[derive(Clone)]
enum Slot {
    Head,
    Entry(usize),
    Private(usize),
    Lookup(usize),
    Tile(u8, u64),
    Key(Space, Vec<u8>),
}

impl Mem {
    fn slots(&self) -> Vec<Slot> {
        let mut s = vec![Slot::Head];
        s.extend((0..self.entries.len()).map(Slot::Entry));
        s.extend((0..self.private.len()).map(Slot::Private));
        s.extend((0..self.lookup.len()).map(Slot::Lookup));
        s.extend(self.tiles.keys().map(|&(l, i)| Slot::Tile(l, i)));
        for space in [Space::Index, Space::Private] {
            s.extend(self.space(space).keys().map(|k| Slot::Key(space, k.clone())));
        }
        s
    }

    fn value(&mut self, slot: &Slot) -> Option<&mut Vec<u8>> {
        match slot {
            Slot::Head => self.head.as_mut(),
            Slot::Entry(i) => self.entries.get_mut(*i),
            Slot::Private(i) => self.private.get_mut(*i),
            Slot::Lookup(i) => self.lookup.get_mut(*i),
            Slot::Tile(l, i) => self.tiles.get_mut(&(*l, *i)),
            Slot::Key(space, k) => self.space_mut(*space).get_mut(k),
        }
    }

    /// Applies 4-byte operations `[op, slot, position, byte]`: set, flip, truncate, insert at a
    /// position; remove the slot (record files cut short there); copy another slot's value over
    /// it; rename it (another key, tile index or record position); set it to a big-endian u64.
    pub(crate) fn damage(&mut self, ops: &[u8]) {
        for op in ops.chunks(4) {
            let [kind, slot, pos, byte] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
            let slots = self.slots();
            let Some(slot) = slots.get(usize::from(slot) % slots.len().max(1)).cloned() else { return };
            let other = slots.get(usize::from(byte) % slots.len().max(1)).cloned();
            let pos = usize::from(pos);
            match kind % 8 {
                4 => self.remove(&slot),
                5 => {
                    let copy = other.and_then(|o| self.value(&o).cloned());
                    if let (Some(copy), Some(v)) = (copy, self.value(&slot)) {
                        *v = copy;
                    }
                }
                6 => self.rename(&slot, pos, byte),
                kind => {
                    let Some(v) = self.value(&slot) else { continue };
                    let at = pos % (v.len() + 1);
                    match kind {
                        0 if at < v.len() => v[at] = byte,
                        1 if at < v.len() => v[at] ^= 1 << (byte % 8),
                        2 => v.truncate(at),
                        3 => v.insert(at, byte),
                        7 => *v = u64::from(byte).to_be_bytes().to_vec(),
                        _ => {}
                    }
                }
            }
        }
    }

    fn remove(&mut self, slot: &Slot) {
        match slot {
            Slot::Head => self.head = None,
            Slot::Entry(i) => self.entries.truncate(*i),
            Slot::Private(i) => self.private.truncate(*i),
            Slot::Lookup(i) => self.lookup.truncate(*i),
            Slot::Tile(l, i) => {
                self.tiles.remove(&(*l, *i));
            }
            Slot::Key(space, k) => {
                self.space_mut(*space).remove(k);
            }
        }
    }

    fn rename(&mut self, slot: &Slot, pos: usize, byte: u8) {
        match slot {
            Slot::Head => {}
            Slot::Entry(i) => {
                let j = (i + 1 + usize::from(byte)) % self.entries.len().max(1);
                self.entries.swap(*i, j);
            }
            Slot::Private(i) => {
                let j = (i + 1 + usize::from(byte)) % self.private.len().max(1);
                self.private.swap(*i, j);
            }
            Slot::Lookup(i) => {
                let j = (i + 1 + usize::from(byte)) % self.lookup.len().max(1);
                self.lookup.swap(*i, j);
            }
            Slot::Tile(l, i) => {
                if let Some(v) = self.tiles.remove(&(*l, *i)) {
                    self.tiles.insert((*l ^ (byte >> 6), *i ^ u64::from(byte & 0x3f)), v);
                }
            }
            Slot::Key(space, k) => {
                if let Some(v) = self.space_mut(*space).remove(k) {
                    let mut k = k.clone();
                    let at = pos % k.len().max(1);
                    match k.get_mut(at) {
                        Some(b) => *b = byte,
                        None => k.push(byte),
                    }
                    self.space_mut(*space).insert(k, v);
                }
            }
        }
    }
}
