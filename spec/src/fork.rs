//! The Ethereum hard forks, in activation order.
//!
//! A rule that changed at a fork is written as `fork >= Fork::Berlin`, never as a list of names:
//! the derived `Ord` follows mainnet activation order.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A set of protocol rules. Variants are ordered by activation on mainnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Fork {
    /// Genesis rules (July 2015).
    Frontier,
    /// EIP-2, EIP-7, EIP-8 (March 2016).
    Homestead,
    /// Homestead rules plus the DAO irregular state change at its activation block.
    DaoFork,
    /// Tangerine Whistle, EIP-150 gas repricing (ethereum/tests name `EIP150`).
    TangerineWhistle,
    /// Spurious Dragon, EIP-155/160/161/170 (ethereum/tests name `EIP158`).
    SpuriousDragon,
    /// Byzantium (EIP-140, 196, 197, 198, 211, 214, 649, 658).
    Byzantium,
    /// Constantinople as first specified, with EIP-1283; never activated on mainnet.
    Constantinople,
    /// Petersburg: Constantinople without EIP-1283 (ethereum/tests name `ConstantinopleFix`).
    Petersburg,
    /// Istanbul (EIP-152, 1108, 1344, 1884, 2028, 2200).
    Istanbul,
    /// Muir Glacier: difficulty bomb delay only.
    MuirGlacier,
    /// Berlin (EIP-2565, 2718, 2929, 2930).
    Berlin,
    /// London (EIP-1559, 3198, 3529, 3541, 3554).
    London,
    /// Arrow Glacier: difficulty bomb delay only.
    ArrowGlacier,
    /// Gray Glacier: difficulty bomb delay only.
    GrayGlacier,
    /// Paris, the Merge (EIP-3675, 4399).
    Paris,
    /// Shanghai (EIP-3651, 3855, 3860, 4895).
    Shanghai,
    /// Cancun (EIP-1153, 4788, 4844, 5656, 6780, 7516).
    Cancun,
    /// Prague (EIP-2537, 2935, 6110, 7002, 7251, 7623, 7685, 7691, 7702).
    Prague,
    /// Osaka (EIP-7594, 7823, 7825, 7883, 7918, 7934, 7939, 7951).
    Osaka,
    /// First blob-parameter-only fork after Osaka.
    Bpo1,
    /// Second blob-parameter-only fork.
    Bpo2,
    /// Third blob-parameter-only fork.
    Bpo3,
    /// Fourth blob-parameter-only fork.
    Bpo4,
    /// Fifth blob-parameter-only fork.
    Bpo5,
}

/// The name was not a fork lockstep knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fork `{0}`")]
pub struct UnknownFork(pub String);

impl Fork {
    /// Every fork, oldest first.
    pub const ALL: [Fork; 24] = [
        Fork::Frontier,
        Fork::Homestead,
        Fork::DaoFork,
        Fork::TangerineWhistle,
        Fork::SpuriousDragon,
        Fork::Byzantium,
        Fork::Constantinople,
        Fork::Petersburg,
        Fork::Istanbul,
        Fork::MuirGlacier,
        Fork::Berlin,
        Fork::London,
        Fork::ArrowGlacier,
        Fork::GrayGlacier,
        Fork::Paris,
        Fork::Shanghai,
        Fork::Cancun,
        Fork::Prague,
        Fork::Osaka,
        Fork::Bpo1,
        Fork::Bpo2,
        Fork::Bpo3,
        Fork::Bpo4,
        Fork::Bpo5,
    ];

    /// The name ethereum/tests and execution-spec-tests use for this fork.
    pub fn test_name(self) -> &'static str {
        match self {
            Fork::Frontier => "Frontier",
            Fork::Homestead => "Homestead",
            Fork::DaoFork => "DAOFork",
            Fork::TangerineWhistle => "EIP150",
            Fork::SpuriousDragon => "EIP158",
            Fork::Byzantium => "Byzantium",
            Fork::Constantinople => "Constantinople",
            Fork::Petersburg => "ConstantinopleFix",
            Fork::Istanbul => "Istanbul",
            Fork::MuirGlacier => "MuirGlacier",
            Fork::Berlin => "Berlin",
            Fork::London => "London",
            Fork::ArrowGlacier => "ArrowGlacier",
            Fork::GrayGlacier => "GrayGlacier",
            Fork::Paris => "Paris",
            Fork::Shanghai => "Shanghai",
            Fork::Cancun => "Cancun",
            Fork::Prague => "Prague",
            Fork::Osaka => "Osaka",
            Fork::Bpo1 => "BPO1",
            Fork::Bpo2 => "BPO2",
            Fork::Bpo3 => "BPO3",
            Fork::Bpo4 => "BPO4",
            Fork::Bpo5 => "BPO5",
        }
    }

    /// Whether blocks under this fork are proof-of-stake (no block reward, no ommers).
    pub fn is_post_merge(self) -> bool {
        self >= Fork::Paris
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.test_name())
    }
}

impl FromStr for Fork {
    type Err = UnknownFork;

    /// Parses the ethereum/tests names (`EIP150`, `ConstantinopleFix`, ...), the common names
    /// (`TangerineWhistle`, `Petersburg`, `Merge`, ...), case-insensitively.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let lower = name.to_ascii_lowercase();
        let fork = match lower.as_str() {
            "frontier" => Fork::Frontier,
            "homestead" => Fork::Homestead,
            "daofork" | "dao" => Fork::DaoFork,
            "eip150" | "tangerinewhistle" | "tangerine" => Fork::TangerineWhistle,
            "eip158" | "spuriousdragon" => Fork::SpuriousDragon,
            "byzantium" => Fork::Byzantium,
            "constantinople" => Fork::Constantinople,
            "constantinoplefix" | "petersburg" => Fork::Petersburg,
            "istanbul" => Fork::Istanbul,
            "muirglacier" => Fork::MuirGlacier,
            "berlin" => Fork::Berlin,
            "london" => Fork::London,
            "arrowglacier" => Fork::ArrowGlacier,
            "grayglacier" => Fork::GrayGlacier,
            "paris" | "merge" => Fork::Paris,
            "shanghai" => Fork::Shanghai,
            "cancun" => Fork::Cancun,
            "prague" => Fork::Prague,
            "osaka" => Fork::Osaka,
            "bpo1" => Fork::Bpo1,
            "bpo2" => Fork::Bpo2,
            "bpo3" => Fork::Bpo3,
            "bpo4" => Fork::Bpo4,
            "bpo5" => Fork::Bpo5,
            _ => return Err(UnknownFork(name.to_string())),
        };
        Ok(fork)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forks_are_in_activation_order() {
        assert!(Fork::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn test_names_round_trip() {
        for fork in Fork::ALL {
            assert_eq!(fork.test_name().parse::<Fork>(), Ok(fork));
        }
        assert_eq!("Merge".parse::<Fork>(), Ok(Fork::Paris));
        assert!("Atlantis".parse::<Fork>().is_err());
    }
}
