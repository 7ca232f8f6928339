//! Which deals a list shows, read from the projection's columns instead of the store: a deal
//! list over a million deals filters in milliseconds here, and only the page shown is then read
//! from the store. The caller orders the deals found (its sort keys are worded in the reader's
//! language) and reads the page.

use std::collections::{HashMap, HashSet};

use pipewise_core::pipeline::StageKind;
use pipewise_core::{AccountId, Money, OpportunityId, PipelineId, StageId, UserId};

use crate::projection::{NO_ACCOUNT, NO_AMOUNT, NO_STAGE, Projection};

/// What a list keeps; every part set must hold.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Deals in stages of this kind (open, won, lost).
    pub kind: Option<StageKind>,
    pub owner: Option<UserId>,
    pub pipeline: Option<PipelineId>,
    pub stage: Option<StageId>,
    /// Only these deals (a figure's drill-down).
    pub ids: Option<HashSet<OpportunityId>>,
    /// The reader's visibility: deals owned by these users, or among `shared` (deals shared
    /// with the reader). `None`: every deal.
    pub visible: Option<Visible>,
    /// A search: deals whose name holds this text (ignoring case, Unicode's) or whose account
    /// is among `accounts` (those whose name holds it, which the store finds).
    pub text: Option<TextFilter>,
}

/// A list's search (see [`ListFilter::text`]).
#[derive(Clone, Debug, Default)]
pub struct TextFilter {
    pub text: String,
    pub accounts: HashSet<AccountId>,
}

/// Whose deals a reader may see.
#[derive(Clone, Debug, Default)]
pub struct Visible {
    pub owners: HashSet<UserId>,
    pub shared: HashSet<OpportunityId>,
}

impl Projection {
    /// The indexes of the deals `filter` keeps, in index order. A filter naming an owner,
    /// pipeline or stage the projection has never seen keeps nothing.
    pub fn list_matching(&self, filter: &ListFilter) -> Vec<u32> {
        let deals = self.deals();
        let known = |found: Option<u32>, asked: bool| if asked { found.map(Some) } else { Some(None) };
        let (Some(owner), Some(pipeline), Some(stage)) = (
            known(filter.owner.and_then(|owner| self.owner_index(owner)), filter.owner.is_some()),
            known(filter.pipeline.and_then(|pipeline| self.pipeline_index(pipeline)).map(u32::from), filter.pipeline.is_some()),
            known(filter.stage.and_then(|stage| self.stage_index(stage)).map(u32::from), filter.stage.is_some()),
        ) else {
            return Vec::new();
        };
        let owners: Option<HashSet<u32>> =
            filter.visible.as_ref().map(|visible| visible.owners.iter().filter_map(|owner| self.owner_index(*owner)).collect());
        let ids = filter.ids.as_ref();
        let names = filter.text.as_ref().map(|text| (self.names_holding(&text.text), &text.accounts));
        let mut kept = Vec::new();
        for index in 0..self.n_deals() {
            let stage_index = deals.stage[index];
            if stage_index == NO_STAGE {
                continue;
            }
            let stage_info = &self.stages[usize::from(stage_index)];
            let id = deals.id[index];
            let keep = filter.kind.is_none_or(|kind| stage_info.kind == kind)
                && owner.is_none_or(|owner| deals.owner[index] == owner)
                && pipeline.is_none_or(|pipeline| u32::from(stage_info.pipeline) == pipeline)
                && stage.is_none_or(|stage| u32::from(stage_index) == stage)
                && ids.is_none_or(|ids| ids.contains(&id))
                && owners.as_ref().is_none_or(|owners| {
                    owners.contains(&deals.owner[index]) || filter.visible.as_ref().is_some_and(|visible| visible.shared.contains(&id))
                })
                && names.as_ref().is_none_or(|(names, accounts)| {
                    names.holds(index) || (deals.account[index] != NO_ACCOUNT && accounts.contains(&AccountId(deals.account[index])))
                });
            if keep {
                kept.push(index as u32);
            }
        }
        kept
    }
}

/// A group of deals: how many, and their amounts in their own currencies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DealGroup {
    pub count: usize,
    pub amounts: Vec<Money>,
}

impl Projection {
    /// The deals at `kept` (indexes from [`Projection::list_matching`]) by their current
    /// account, of the accounts `among` when given; deals without one are left out.
    pub fn by_account(&self, kept: &[u32], among: Option<&HashSet<AccountId>>) -> HashMap<AccountId, DealGroup> {
        let deals = self.deals();
        let mut groups: HashMap<AccountId, DealGroup> = HashMap::new();
        for index in kept {
            let index = *index as usize;
            let account = deals.account[index];
            if account == NO_ACCOUNT || among.is_some_and(|among| !among.contains(&AccountId(account))) {
                continue;
            }
            let group = groups.entry(AccountId(account)).or_default();
            group.count += 1;
            let native = deals.amount_native[index];
            if native != NO_AMOUNT {
                let currency = self.currencies[usize::from(deals.currency[index])];
                group.amounts.extend(Money::new(currency.amount_of(native), currency).ok());
            }
        }
        groups
    }
}
