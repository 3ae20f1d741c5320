//! The wire shapes of the HTTP APIs (feature `api`): the CCN's (`/api/v0/…`) and the part of
//! the CRN's (aleph-vm) that clients call. One definition serves both ends: the node builds its
//! answers from these types and reads its query strings into them; the SDK writes its requests
//! with them and decodes the answers into them. With the feature `openapi` they also describe
//! themselves (utoipa schemas and parameters), for the node's `/api/openapi.json`.
//!
//! Where the reference serves a shape loosely (floats against integers, `null` against an absent
//! key), the type documents what it writes and why. Free-form JSON (a post's content, a message
//! in its API form) stays [`serde_json::Value`].

pub mod accounts;
pub mod addresses;
pub mod aggregates;
pub mod crn;
pub mod errors;
pub mod messages;
pub mod node;
pub mod paging;
pub mod posts;
pub mod prices;
pub mod query;
pub mod storage;

pub use accounts::{
    Balance, BalanceCursorPage, BalanceEntry, BalanceList, BalanceListParams, BalancePage, BalanceParams,
    ConsumedCredits, CreditBalanceCursorPage, CreditBalanceEntry, CreditBalanceList, CreditBalanceListParams,
    CreditBalancePage, CreditHistory, CreditHistoryCursorPage, CreditHistoryEntry, CreditHistoryPage,
    CreditHistoryParams, CreditHistorySummary, CreditLot, CreditSortParams,
};
pub use addresses::{
    AccountFile, AccountFileList, AccountFileParams, AccountFileSeconds, AccountFiles,
    AccountFilesCursorPage, AddressChannels, AddressPostTypes, AddressStats, AddressStatsMap,
    AddressStatsPage, AddressStatsParams, AuthorizationParams, AuthorizationsPage, ChannelList,
    GranteeParams, GranterParams,
};
pub use aggregates::{
    AddressAggregates, AddressAggregatesParams, AggregateCursorPage, AggregateEntry, AggregateInfo,
    AggregateList, AggregateListParams, AggregatePage,
};
pub use crn::{
    AllocationNotification, AllocationsAnswer, CrnExecution, CrnExecutionV1, CrnExecutions, CrnExecutionsV1,
    CrnLogEntry, ExecutionNetworking, ExecutionNetworkingV1, ExecutionTimes,
};
pub use errors::CrnError;
pub use messages::{
    date_range, ContentFormat, HashEntry, HashesPage, HashesParams, MessageCursorPage, MessageList,
    MessagePage, MessageParams, MessageStatusInfo, MessageWithStatusBody, PageNumberParams, PageParams,
    PublicationStatus, SortBy, SortOrder, SubmitRequest, SubmitResponse, WsParams,
};
pub use node::{NodeVersion, ProgramSubscription, ProgramSubscriptionParams, PublicInfo};
pub use paging::{CursorInfo, PageInfo};
pub use posts::{
    Post, PostCursorPage, PostList, PostPage, PostParams, PostV1, PostV1CursorPage, PostV1List, PostV1Page,
};
pub use prices::{
    CostFilters, CostLine, CostSummary, CostsOverview, CostsParams, EstimateRequest, Price, PriceParams,
    ResourceCost,
};
pub use query::{QueryError, QueryMap};
pub use storage::{
    FileContent, FileMetadata, FileRef, IpfsUploadLimits, StorageLimits, StorageUploadLimits, UploadResponse,
};
