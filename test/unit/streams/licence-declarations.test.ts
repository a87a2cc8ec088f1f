import { existsSync } from 'node:fs';
import { topicSpecs } from '../../../kafka/topics';
import { schemaFilePath } from '../../../schemas/files';
import { GENERIC_STREAMS } from '../../../schemas/streams/generic';
import {
  PERMISSION_SET_ASSIGNMENTS,
  PERMISSION_SET_LICENSE_ASSIGNMENTS,
  USER_LICENSES,
} from '../../../schemas/streams';
import { loadStream } from '../../../schemas/streams/load';
import { DEFAULT_TOPICS, DEFAULT_TOPIC_SETTINGS } from '../../../schemas/topics';

/** The licence streams are declarations only: each loads, and the generic path runs it. */
const LICENCES = [USER_LICENSES, PERMISSION_SET_LICENSE_ASSIGNMENTS, PERMISSION_SET_ASSIGNMENTS];

it('every licence stream is declared, loads (mapping and schema agree) and keys its records by id', () => {
  for (const decl of LICENCES) {
    expect(GENERIC_STREAMS).toContain(decl);
    const loaded = loadStream(decl);
    expect(loaded.keyTarget).toBe('id');
    expect(loaded.fields[0]).toBe('Id');
    expect(decl.mode.kind).toBe('snapshot');
  }
  expect(loadStream(PERMISSION_SET_LICENSE_ASSIGNMENTS).fields).toEqual([
    'Id',
    'AssigneeId',
    'PermissionSetLicenseId',
    'PermissionSetLicense.MasterLabel',
    'PermissionSetLicense.DeveloperName',
  ]);
});

it('their topics are provisioned compacted (snapshots with tombstones), and their view file ships', () => {
  const streams = LICENCES.map((d) => ({ name: d.topic.defaultName, ...d.topic }));
  const specs = topicSpecs(DEFAULT_TOPICS, DEFAULT_TOPIC_SETTINGS, streams);
  for (const d of LICENCES) {
    const spec = specs.find((s) => s.topic === d.topic.defaultName);
    expect(spec?.configEntries).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
  }
  for (const v of PERMISSION_SET_LICENSE_ASSIGNMENTS.sink.views ?? []) expect(existsSync(schemaFilePath(v))).toBe(true);
});
