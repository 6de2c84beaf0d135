package params

import "github.com/dqmhq/dqm/schemas"

// ErrorCode classifies every parameter problem as bad_params (HTTP 400).
func (e *Error) ErrorCode() schemas.Code { return schemas.CodeBadParams }
