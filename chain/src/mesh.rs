//! The mesh: one chain per writer, readers sweep them all. A comparison structure.

use std::marker::PhantomData;

use crate::{Chain, Chainable, Reader};

/// Builds a mesh: one single-writer [`Chain`] per writer, and readers that sweep all of them.
///
/// The mesh exists for benchmarks, as the point between per-writer MPSC queues and the
/// shared chain. Its known pathology: updates that cancel *across* writers (`+1` at `t`
/// from one worker, `-1` at `t` from another) land in different chains, so none of them
/// can consolidate, and a laggard folds work proportional to the elapsed sends although
/// the net change it is owed is empty. The shared [`Chain`] merges both into one atom.
///
/// # Examples
///
/// ```
/// use chain::Mesh;
///
/// let (writers, mut readers) = Mesh::<i64>::new(2, 1);
/// writers[0].send(1);
/// writers[1].send(-1);
/// let mut atoms = 0;
/// readers[0].recv_with(|_| atoms += 1);
/// assert_eq!(atoms, 2); // the +1 and the -1 live in different chains
/// ```
#[derive(Debug)]
pub struct Mesh<T>(PhantomData<T>);

impl<T: Chainable> Mesh<T> {
    /// `writers` chains, and `readers` readers each registered with every chain.
    ///
    /// # Examples
    ///
    /// ```
    /// let (writers, readers) = chain::Mesh::<u64>::new(3, 2);
    /// assert_eq!((writers.len(), readers.len()), (3, 2));
    /// ```
    #[allow(clippy::new_ret_no_self)] // a constructor of handles, as `Chain::with_readers`
    pub fn new(writers: usize, readers: usize) -> (Vec<Chain<T>>, Vec<MeshReader<T>>) {
        let mut sweeps: Vec<MeshReader<T>> = (0..readers)
            .map(|_| MeshReader {
                readers: Vec::with_capacity(writers),
            })
            .collect();
        let chains = (0..writers)
            .map(|_| {
                let (chain, readers) = Chain::with_readers(readers);
                for (sweep, reader) in sweeps.iter_mut().zip(readers) {
                    sweep.readers.push(reader);
                }
                chain
            })
            .collect();
        (chains, sweeps)
    }
}

/// A reader of every chain of a mesh.
///
/// # Examples
///
/// ```
/// let (writers, mut readers) = chain::Mesh::<u64>::new(2, 1);
/// writers[1].send(4);
/// let mut total = 0;
/// assert!(readers[0].recv(&mut total));
/// assert_eq!(total, 4);
/// ```
#[derive(Debug)]
pub struct MeshReader<T: Chainable> {
    readers: Vec<Reader<T>>,
}

impl<T: Chainable> MeshReader<T> {
    /// Folds every new atom of every chain into `acc`; true if any non-empty atom was folded.
    ///
    /// # Examples
    ///
    /// ```
    /// let (writers, mut readers) = chain::Mesh::<u64>::new(1, 1);
    /// assert!(!readers[0].recv(&mut 0));
    /// writers[0].send(1);
    /// assert!(readers[0].recv(&mut 0));
    /// ```
    pub fn recv(&mut self, acc: &mut T) -> bool {
        let mut folded = false;
        for reader in &mut self.readers {
            folded |= reader.recv(acc);
        }
        folded
    }

    /// Hands every new non-empty atom of every chain to `f`; true if it was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let (writers, mut readers) = chain::Mesh::<u64>::new(2, 1);
    /// writers[0].send(1);
    /// writers[1].send(2);
    /// let mut atoms = Vec::new();
    /// readers[0].recv_with(|atom| atoms.push(*atom));
    /// atoms.sort();
    /// assert_eq!(atoms, vec![1, 2]);
    /// ```
    pub fn recv_with(&mut self, mut f: impl FnMut(&T)) -> bool {
        let mut folded = false;
        for reader in &mut self.readers {
            folded |= reader.recv_with(&mut f);
        }
        folded
    }

    /// True if any chain has committed sends since this reader last looked.
    ///
    /// # Examples
    ///
    /// ```
    /// let (writers, readers) = chain::Mesh::<u64>::new(2, 1);
    /// writers[1].send(1);
    /// assert!(readers[0].has_news());
    /// ```
    pub fn has_news(&self) -> bool {
        self.readers.iter().any(Reader::has_news)
    }
}
