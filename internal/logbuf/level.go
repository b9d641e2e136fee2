package logbuf

import "go.uber.org/zap/zapcore"

func levelOf(sev int) zapcore.Level {
	switch {
	case sev <= Error:
		return zapcore.ErrorLevel
	case sev == Warning:
		return zapcore.WarnLevel
	case sev == Debugging:
		return zapcore.DebugLevel
	default:
		return zapcore.InfoLevel
	}
}
