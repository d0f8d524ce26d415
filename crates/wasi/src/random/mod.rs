//! `wasi:random`: cryptographically secure bytes from the operating system (`getrandom(2)`),
//! fast insecure bytes from a xoshiro256** generator seeded from it, and the insecure seed.
//! Each source can be replaced by the embedder with anything that implements [`Rng`] (for
//! example [`Deterministic`] in tests). A request for more than the context's limit (64 MiB
//! unless set) is a trap, so that a guest cannot make the host allocate without bound.

mod host;

/// The most bytes one `get-random-bytes` may ask for unless the builder says otherwise.
pub const DEFAULT_MAX_SIZE: u64 = 64 << 20;

/// A source of random bytes.
pub trait Rng: Send {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]);

    /// A random `u64`.
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
}

/// The operating system's secure generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl Rng for OsRng {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let mut filled = 0;
        while filled < dest.len() {
            match rustix::rand::getrandom(&mut dest[filled..], rustix::rand::GetRandomFlags::empty()) {
                Ok(n) => filled += n,
                Err(rustix::io::Errno::INTR) => {}
                // getrandom(2) fails only without a kernel source of entropy; there is no
                // secure way to go on.
                Err(e) => panic!("the operating system's random source failed: {e}"),
            }
        }
    }
}

/// A fast generator that is not secure (xoshiro256**), for `wasi:random/insecure`.
#[derive(Debug, Clone)]
pub struct InsecureRng {
    state: [u64; 4],
}

impl InsecureRng {
    /// A generator seeded with `seed` (expanded with splitmix64, so any seed works).
    pub fn seeded(seed: u64) -> InsecureRng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        InsecureRng { state: [next(), next(), next(), next()] }
    }

    /// A generator seeded from the operating system.
    pub fn from_os() -> InsecureRng {
        InsecureRng::seeded(OsRng.next_u64())
    }
}

impl Rng for InsecureRng {
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A generator that repeats given bytes, for reproducible tests.
#[derive(Debug, Clone)]
pub struct Deterministic {
    bytes: Vec<u8>,
    next: usize,
}

impl Deterministic {
    /// Cycles through `bytes` (which must not be empty).
    pub fn new(bytes: Vec<u8>) -> Deterministic {
        assert!(!bytes.is_empty(), "Deterministic needs at least one byte to repeat");
        Deterministic { bytes, next: 0 }
    }
}

impl Rng for Deterministic {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.bytes[self.next];
            self.next = (self.next + 1) % self.bytes.len();
        }
    }
}

/// The random sources of a context.
pub(crate) struct RandomCtx {
    pub secure: Box<dyn Rng>,
    pub insecure: Box<dyn Rng>,
    pub insecure_seed: u128,
    pub max_size: u64,
}

impl RandomCtx {
    /// Random sources that ask the system for nothing: for a context that is never used.
    pub(crate) fn unseeded() -> RandomCtx {
        RandomCtx {
            secure: Box::new(OsRng),
            insecure: Box::new(InsecureRng::seeded(0)),
            insecure_seed: 0,
            max_size: DEFAULT_MAX_SIZE,
        }
    }
}

impl Default for RandomCtx {
    fn default() -> RandomCtx {
        // One system call for both seeds: a context is made per request by servers.
        let mut bytes = [0u8; 24];
        OsRng.fill_bytes(&mut bytes);
        let (seed, generator) = bytes.split_at(16);
        RandomCtx {
            secure: Box::new(OsRng),
            insecure: Box::new(InsecureRng::seeded(u64::from_le_bytes(generator.try_into().expect("8 bytes")))),
            insecure_seed: u128::from_le_bytes(seed.try_into().expect("16 bytes")),
            max_size: DEFAULT_MAX_SIZE,
        }
    }
}
