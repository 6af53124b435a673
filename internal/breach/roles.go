package breach

// Roles, ordered: admin can do everything; responder and legal are peers;
// viewer reads.
const (
	RoleAdmin     = "admin"
	RoleResponder = "responder"
	RoleLegal     = "legal"
	RoleViewer    = "viewer"
)

// ValidRole reports whether r is one of the four roles.
func ValidRole(r string) bool {
	switch r {
	case RoleAdmin, RoleResponder, RoleLegal, RoleViewer:
		return true
	}
	return false
}

// RoleSatisfies reports whether a token with role have may do what needs
// role need: admin satisfies every role, every role satisfies viewer, and
// otherwise only the same role does (responder and legal are peers).
func RoleSatisfies(have, need string) bool {
	if !ValidRole(have) || !ValidRole(need) {
		return false
	}
	return have == RoleAdmin || have == need || need == RoleViewer
}
