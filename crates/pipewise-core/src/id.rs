//! Typed record ids. Every id is a positive `i64` allocated by the store; the type keeps an
//! opportunity id from being passed where an account id is meant.

use std::fmt;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident => $label:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// What the record is called in error messages, e.g. `opportunity`.
            pub const LABEL: &'static str = $label;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

ids! {
    /// An organisation: the tenant every other row is keyed by.
    OrgId => "organisation";
    UserId => "user";
    TeamId => "team";
    AccountId => "account";
    ContactId => "contact";
    OpportunityId => "opportunity";
    PipelineId => "pipeline";
    StageId => "stage";
    LeadId => "lead";
    ActivityId => "activity";
    TaskId => "task";
}
