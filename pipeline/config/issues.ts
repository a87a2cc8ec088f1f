// The issue list and ConfigError live in kernel/ so that the sink and the connector report through them too.
export * from '../../kernel/config-issues';
