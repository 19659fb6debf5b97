"""AppLogic: the exchange's business-rules sidecar (OpenDAX's ``applogic``). It watches
withdrawals through the Event API and decides them through Peatio's Management API, as an
outside service would: large withdrawals wait for N of M approvers (multi-signature
approval), small ones are processed at once. It imports the API layer only to reuse its
member authentication for its own HTTP API; everything it does to withdrawals goes over
HTTP, signed with its own key."""
