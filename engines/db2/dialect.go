package db2

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/schemas"
)

// Everything about DB2 that needs no driver: the engine's name and
// placeholder style, DSNs, identifier quoting, the deadline mechanism's
// SQL, the type mapping and error classification. Plain Go, in every build.

// Name is the engine's config name.
const Name = schemas.EngineDB2

// Style is DB2's placeholder style: ? per occurrence.
const Style = engines.Question

// DriverName is the database/sql name go_ibm_db registers itself under.
const DriverName = "go_ibm_db"

// DefaultPort is DB2's usual TCP port.
const DefaultPort = "50000"

// Config is a DB2 CLI connection string, parsed. Its LogValue hides the
// password.
type Config struct {
	Host, Port, Database, User, Password string
	// Params are the other CLI keywords (Security=SSL, CurrentSchema, ...)
	// in the order given.
	Params [][2]string
}

// ParseDSN reads either form of a DB2 DSN:
//
//	HOSTNAME=db;PORT=50000;DATABASE=sample;UID=u;PWD=p;Security=SSL;
//	db2://u:p@db:50000/sample?Security=SSL&CurrentSchema=APP
//
// Keywords are case-insensitive; a value holding ';' is enclosed in braces
// ({a;b}, '}' doubled), as ODBC connection strings do. DATABASE is required.
// Errors never quote the DSN: it holds the password.
func ParseDSN(dsn string) (*Config, error) {
	var c *Config
	var err error
	if strings.HasPrefix(dsn, "db2://") {
		c, err = parseURL(dsn)
	} else {
		c, err = parseConnString(dsn)
	}
	if err != nil {
		return nil, err
	}
	if c.Database == "" {
		return nil, errors.New("db2 dsn: no database (DATABASE=... or db2://host/database)")
	}
	return c, nil
}

func parseURL(dsn string) (*Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password and all
		}
		return nil, fmt.Errorf("db2 dsn: not a valid URL: %w", err)
	}
	c := &Config{Host: u.Hostname(), Port: u.Port(), Database: strings.TrimPrefix(u.Path, "/")}
	if c.Host == "" {
		c.Host = "localhost"
	}
	if c.Port == "" {
		c.Port = DefaultPort
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys) // url.Values has no order: keep the string stable
	for _, k := range keys {
		c.Params = append(c.Params, [2]string{k, q.Get(k)})
	}
	return c, nil
}

func parseConnString(dsn string) (*Config, error) {
	c := &Config{}
	rest := strings.TrimSpace(dsn)
	for rest != "" {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, errors.New("db2 dsn: want KEYWORD=value pairs separated by ';'")
		}
		key = strings.TrimSpace(key)
		var val string
		after = strings.TrimLeft(after, " ")
		if strings.HasPrefix(after, "{") {
			v, n, err := braced(after)
			if err != nil {
				return nil, err
			}
			val, rest = v, strings.TrimPrefix(strings.TrimSpace(after[n:]), ";")
		} else {
			val, rest, _ = strings.Cut(after, ";")
			val = strings.TrimSpace(val)
		}
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(key) {
		case "HOSTNAME":
			c.Host = val
		case "PORT":
			c.Port = val
		case "DATABASE":
			c.Database = val
		case "UID":
			c.User = val
		case "PWD":
			c.Password = val
		case "":
			return nil, errors.New("db2 dsn: empty keyword")
		default:
			c.Params = append(c.Params, [2]string{key, val})
		}
	}
	if c.Port != "" {
		if _, err := strconv.ParseUint(c.Port, 10, 16); err != nil {
			return nil, fmt.Errorf("db2 dsn: PORT %q is not a port number", c.Port)
		}
	}
	return c, nil
}

// braced reads an ODBC {value} with '}}' for '}', returning the value and
// the bytes consumed.
func braced(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '}' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		return b.String(), i + 1, nil
	}
	return "", 0, errors.New("db2 dsn: unterminated {value}")
}

// ConnString renders the CLI connection string go_ibm_db opens
// (PROTOCOL=TCPIP unless given).
func (c *Config) ConnString() string {
	var b strings.Builder
	kv := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteValue(v))
		b.WriteByte(';')
	}
	if c.Host != "" {
		kv("HOSTNAME", c.Host)
		kv("PORT", cmpOr(c.Port, DefaultPort))
	}
	kv("DATABASE", c.Database)
	if c.User != "" {
		kv("UID", c.User)
	}
	if c.Password != "" {
		kv("PWD", c.Password)
	}
	for _, p := range c.Params {
		kv(p[0], p[1])
	}
	if c.Host != "" && !c.has("PROTOCOL") {
		kv("PROTOCOL", "TCPIP")
	}
	return b.String()
}

func (c *Config) has(key string) bool {
	for _, p := range c.Params {
		if strings.EqualFold(p[0], key) {
			return true
		}
	}
	return false
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// quoteValue braces a value the connection string could misread.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, ";{}") && strings.TrimSpace(v) == v {
		return v
	}
	return "{" + strings.ReplaceAll(v, "}", "}}") + "}"
}

// LogValue implements slog.LogValuer: the DSN without its password.
func (c *Config) LogValue() slog.Value {
	addr := c.Host
	if c.Host != "" {
		addr = net.JoinHostPort(c.Host, cmpOr(c.Port, DefaultPort))
	}
	return slog.GroupValue(slog.String("addr", addr), slog.String("database", c.Database), slog.String("user", c.User))
}

// QuoteIdent quotes an identifier for DB2 SQL: "name", '"' doubled. DB2
// folds unquoted names to upper case, so a quoted name must match the
// catalog's case (usually upper).
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// The deadline mechanism. go_ibm_db implements no context interfaces (no
// QueryContext/ExecContext on its Conn or Stmt) and does not expose CLI
// statement handles, so neither database/sql's context nor CLI's
// SQL_ATTR_QUERY_TIMEOUT can stop a running statement: database/sql only
// checks the context between calls. So at the deadline dqm cancels the
// statement from a second, short-lived connection with WLM_CANCEL_ACTIVITY
// (DB2 LUW 9.7+; the user needs EXECUTE on it and WLMADM, SQLADM or DBADM
// authority). The statement then fails with SQLSTATE 57014 and the
// connection lives on. Without that authority the statement runs to its
// end and the request still answers timeout.
const (
	// appHandleSQL is run once per connection.
	appHandleSQL = "VALUES SYSPROC.MON_GET_APPLICATION_HANDLE()"
	// activitySQL finds the statement the connection is running.
	activitySQL = "SELECT UOW_ID, ACTIVITY_ID FROM TABLE(SYSPROC.MON_GET_ACTIVITY(?, -2)) AS A" +
		" WHERE ACTIVITY_STATE IN ('EXECUTING', 'IDLE') ORDER BY ACTIVITY_ID DESC FETCH FIRST 1 ROW ONLY"
	// cancelSQL cancels it.
	cancelSQL = "CALL SYSPROC.WLM_CANCEL_ACTIVITY(?, ?, ?)"
)

// kind is the JSON form of a DB2 column, from its type name.
type kind uint8

const (
	kindAny kind = iota
	kindInt
	kindNumeric
	kindReal
	kindDouble
	kindBool
	kindText
	kindBytes
	kindDate
	kindTime
	kindTimestamp
)

// kindOf maps a DB2 type name (database/sql's DatabaseTypeName: CLI's
// SQL_DESC_TYPE_NAME) to its JSON form: SMALLINT, INTEGER, BIGINT →
// number; DECIMAL, NUMERIC, DECFLOAT → exact string; REAL → Float(,32);
// DOUBLE, FLOAT → Float(,64); BOOLEAN → true/false; CHAR, VARCHAR, CLOB,
// GRAPHIC, VARGRAPHIC, DBCLOB, XML → string (XML serialized); BLOB,
// BINARY, VARBINARY and CHAR/VARCHAR FOR BIT DATA → base64; DATE, TIME,
// TIMESTAMP → the contract's text forms (TIMESTAMP has no zone in DB2 and
// is taken as UTC).
func kindOf(typeName string) kind {
	t := strings.ToUpper(strings.TrimSpace(typeName))
	if strings.Contains(t, "FOR BIT DATA") {
		return kindBytes
	}
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "SMALLINT", "INTEGER", "INT", "BIGINT":
		return kindInt
	case "DECIMAL", "DEC", "NUMERIC", "NUM", "DECFLOAT":
		return kindNumeric
	case "REAL":
		return kindReal
	case "DOUBLE", "FLOAT", "DOUBLE PRECISION":
		return kindDouble
	case "BOOLEAN":
		return kindBool
	case "CHAR", "CHARACTER", "VARCHAR", "LONG VARCHAR", "CLOB", "GRAPHIC", "VARGRAPHIC",
		"LONG VARGRAPHIC", "DBCLOB", "NCHAR", "NVARCHAR", "NCLOB", "XML":
		return kindText
	case "BLOB", "BINARY", "VARBINARY":
		return kindBytes
	case "DATE":
		return kindDate
	case "TIME":
		return kindTime
	case "TIMESTAMP":
		return kindTimestamp
	}
	return kindAny
}

// encode writes one value as go_ibm_db returns it: int32 (SMALLINT,
// INTEGER), int64, float64 (REAL, DOUBLE, and DECIMAL in driver versions
// that fetch it as a double: exact only to 15–17 digits), bool, []byte
// (CHAR family, DECIMAL as text, binary), string (GRAPHIC family, XML),
// time.Time (DATE, TIME, TIMESTAMP: its wall clock is the stored value,
// whatever zone the driver labels it with) or nil.
func encode(w *engines.RowWriter, k kind, v any) {
	switch v := v.(type) {
	case nil:
		w.Null()
	case int64:
		encodeInt(w, k, v)
	case int32:
		encodeInt(w, k, int64(v))
	case int16:
		encodeInt(w, k, int64(v))
	case float64:
		switch k {
		case kindNumeric:
			w.Numeric(strconv.FormatFloat(v, 'f', -1, 64))
		case kindReal:
			w.Float(v, 32)
		default:
			w.Float(v, 64)
		}
	case float32:
		w.Float(float64(v), 32)
	case bool:
		w.Bool(v)
	case []byte:
		encodeText(w, k, v, string(v))
	case string:
		encodeText(w, k, nil, v)
	case time.Time:
		encodeTime(w, k, v)
	default:
		w.String(fmt.Sprint(v))
	}
}

func encodeInt(w *engines.RowWriter, k kind, n int64) {
	switch k {
	case kindBool:
		w.Bool(n != 0)
	case kindNumeric:
		w.Numeric(strconv.FormatInt(n, 10))
	default:
		w.Int(n)
	}
}

// encodeText writes a value that came as text or bytes; b is set when it
// came as bytes.
func encodeText(w *engines.RowWriter, k kind, b []byte, s string) {
	switch k {
	case kindBytes:
		if b == nil {
			b = []byte(s)
		}
		w.Bytes(b)
	case kindNumeric:
		w.Numeric(strings.TrimSpace(s))
	case kindInt:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			w.Int(n)
			return
		}
		w.String(s)
	case kindReal:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 32); err == nil {
			w.Float(f, 32)
			return
		}
		w.String(s)
	case kindDouble:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			w.Float(f, 64)
			return
		}
		w.String(s)
	case kindBool:
		switch strings.TrimSpace(s) {
		case "1", "true", "TRUE":
			w.Bool(true)
		case "0", "false", "FALSE":
			w.Bool(false)
		default:
			w.String(s)
		}
	default:
		w.String(s)
	}
}

func encodeTime(w *engines.RowWriter, k kind, t time.Time) {
	switch k {
	case kindDate:
		w.Date(t)
	case kindTime:
		w.TimeOfDay(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
			time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()))
	default:
		// The wall clock is the stored value: relabel it UTC, do not convert.
		w.Timestamp(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC))
	}
}

// DB2 SQLCODEs dqm treats specially.
const (
	sqlcodeDeadlock     = -911   // deadlock or lock timeout: the unit of work was rolled back
	sqlcodeDeadlockStmt = -913   // deadlock or lock timeout: the statement was rolled back
	sqlcodeCommError    = -30081 // communication error
	sqlcodeAgentEnded   = -1224  // the database agent was terminated (FORCE APPLICATION)
	sqlcodeReroute      = -30108 // client reroute: reconnected, transaction rolled back
)

// Classify turns a DB2 diagnostic (SQLSTATE, SQLCODE, message) into a
// *engines.DatabaseError: 40001 and 57033 (SQLCODE -911, -913: deadlock or
// lock timeout) are retryable database errors; 57014 (cancelled, as
// WLM_CANCEL_ACTIVITY does at the deadline) and HYT00 (CLI query timeout)
// are timeouts; the 08 class, 40003 and SQLCODEs -30081 and -1224 mean the
// connection is gone (unavailable, wrapping engines.ErrConnLost), except
// 08506 (client reroute: reconnected, the transaction rolled back), which
// is retryable; everything else — 42601 and the 42 class (syntax, unknown
// names), 23505 and the 23 class (constraints), 22012 (division by zero)
// — is a database_error.
func Classify(sqlstate string, sqlcode int, msg string) error {
	e := &engines.DatabaseError{Code: schemas.CodeDatabaseError, SQLState: sqlstate, Message: cleanMessage(msg)}
	switch {
	case sqlstate == "08506" || sqlcode == sqlcodeReroute:
		e.Retryable = true
	case sqlstate == "40001" || sqlstate == "57033" || sqlcode == sqlcodeDeadlock || sqlcode == sqlcodeDeadlockStmt:
		e.Retryable = true
	case sqlstate == "57014" || sqlstate == "HYT00":
		e.Code = schemas.CodeTimeout
	case strings.HasPrefix(sqlstate, "08") || sqlstate == "40003" || sqlcode == sqlcodeCommError || sqlcode == sqlcodeAgentEnded:
		e.Code = schemas.CodeUnavailable
		e.Err = engines.ErrConnLost
	}
	if e.SQLState == "" && sqlcode != 0 {
		e.SQLState = "SQL" + strconv.Itoa(sqlcode)
	}
	return e
}

// cleanMessage drops CLI's "[IBM][CLI Driver][DB2/LINUXX8664] " prefix.
func cleanMessage(msg string) string {
	s := strings.TrimSpace(msg)
	for strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			break
		}
		s = strings.TrimSpace(s[i+1:])
	}
	if s == "" {
		return strings.TrimSpace(msg)
	}
	return s
}

// classifyErr classifies an error from go_ibm_db through database/sql.
func classifyErr(err error) error { return engines.Classify(err, classifyDriver) }

func classifyDriver(err error) *engines.DatabaseError {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		// go_ibm_db's verdict for CLI0106E–CLI0108E (connection closed or
		// failed), which database/sql turns into ErrConnDone on a pinned
		// connection.
		return engines.Lost(err)
	}
	state, code, msg, ok := diagnostic(err)
	if !ok {
		return nil
	}
	e := Classify(state, code, msg).(*engines.DatabaseError)
	if e.Err != nil {
		e.Err = errors.Join(e.Err, err) // ErrConnLost and the driver's error
	} else {
		e.Err = err
	}
	return e
}

// diagnostic reads the first CLI diagnostic record of a go_ibm_db error,
// *go_ibm_db.Error{APIName string; Diag []DiagRecord{State string;
// NativeError int; Message string}}, through reflect: dqm does not import
// the driver (see doc.go), and those exported fields are its documented
// shape. NativeError is the SQLCODE.
func diagnostic(err error) (state string, code int, msg string, ok bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		diag := v.FieldByName("Diag")
		if !diag.IsValid() || diag.Kind() != reflect.Slice || diag.Len() == 0 || diag.Type().Elem().Kind() != reflect.Struct {
			continue
		}
		r := diag.Index(0)
		st, ne, m := r.FieldByName("State"), r.FieldByName("NativeError"), r.FieldByName("Message")
		if st.Kind() != reflect.String || !ne.CanInt() || m.Kind() != reflect.String {
			continue
		}
		return st.String(), int(ne.Int()), m.String(), true
	}
	return "", 0, "", false
}
