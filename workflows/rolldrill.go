package workflows

// The rolldrill build (go build -tags rolldrill) carries one workflow
// change the shipped build does not, so TestCluster can roll the
// cluster's workers from one build to the next with incidents open, the
// way docs/deploy.md ("Rolling a new build") tells an operator to: when an
// approval step becomes ready, its approvers are mailed at once instead
// of at its first reminder, and the timeline says so. Like every workflow
// change it sits behind its own GetVersion id. The shipped build never
// calls GetVersion with it.

// RollDrillChange is the GetVersion id of the rolldrill build's change.
const RollDrillChange = "roll13-approval-asked"
