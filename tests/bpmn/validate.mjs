// Checks BPMN files exported by `nagare bpmn` with independent BPMN implementations.
//
//   node tests/bpmn/validate.mjs FILE.bpmn...
//
// 1. bpmn-moddle (the model behind bpmn.io and Camunda Modeler) reads each file; any
//    warning (an unknown element or attribute, an unresolved reference) is a failure.
// 2. The model is checked for what a modeler needs to open it laid out: a pool whose
//    process has a lane set that places every flow node in exactly one lane, and diagram
//    interchange with a shape (with bounds) for the pool, every lane and every flow node,
//    and an edge (with at least two waypoints) for every sequence flow.
// 3. bpmn-engine (a BPMN execution engine with its own element model) loads each file
//    and must find the same activities and sequence flows.
//
// Exits 0 when every file passes, 1 otherwise, 2 on bad usage. Install the packages
// first with `npm ci --prefix tests/bpmn`.

import { readFile } from 'node:fs/promises';
import { BpmnModdle } from 'bpmn-moddle';
import { Engine } from 'bpmn-engine';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node tests/bpmn/validate.mjs FILE.bpmn...');
  process.exit(2);
}

const moddle = new BpmnModdle();
let failed = 0;

for (const file of files) {
  const problems = [];
  try {
    const xml = await readFile(file, 'utf8');
    const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
    for (const w of warnings) {
      problems.push(`bpmn-moddle: ${w.message.split('\n')[0]}`);
    }
    const counts = checkModel(rootElement, problems);
    await checkEngine(file, xml, counts, problems);
  } catch (err) {
    problems.push(`cannot read: ${err.message.split('\n')[0]}`);
  }
  if (problems.length > 0) {
    failed += 1;
    console.log(`FAIL ${file}`);
    for (const p of problems) console.log(`  ${p}`);
  } else {
    console.log(`ok   ${file}`);
  }
}

console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

/** Checks the model's structure and diagram; returns what bpmn-engine must find. */
function checkModel(definitions, problems) {
  const collaborations = definitions.rootElements.filter((e) => e.$type === 'bpmn:Collaboration');
  const processes = definitions.rootElements.filter((e) => e.$type === 'bpmn:Process');
  if (collaborations.length !== 1) problems.push(`expected 1 collaboration, found ${collaborations.length}`);
  if (processes.length !== 1) problems.push(`expected 1 process, found ${processes.length}`);
  if (problems.length > 0) return null;

  const [collaboration] = collaborations;
  const [proc] = processes;
  const participants = collaboration.participants ?? [];
  if (participants.length !== 1 || participants[0].processRef !== proc) {
    problems.push('the collaboration needs one participant whose processRef is the process');
  }

  const elements = proc.flowElements ?? [];
  const nodes = elements.filter((e) => e.$instanceOf('bpmn:FlowNode'));
  const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow');
  if (!nodes.some((n) => n.$type === 'bpmn:StartEvent')) problems.push('no startEvent');
  if (!nodes.some((n) => n.$type === 'bpmn:EndEvent')) problems.push('no endEvent');

  for (const flow of flows) {
    if (!flow.sourceRef || !flow.targetRef) {
      problems.push(`sequenceFlow ${flow.id} has an unresolved sourceRef or targetRef`);
      continue;
    }
    if (!(flow.sourceRef.outgoing ?? []).includes(flow)) {
      problems.push(`sequenceFlow ${flow.id} is not among the outgoing of ${flow.sourceRef.id}`);
    }
    if (!(flow.targetRef.incoming ?? []).includes(flow)) {
      problems.push(`sequenceFlow ${flow.id} is not among the incoming of ${flow.targetRef.id}`);
    }
  }
  for (const gateway of nodes.filter((n) => n.$type === 'bpmn:ExclusiveGateway')) {
    const out = gateway.outgoing ?? [];
    if (gateway.default && !out.includes(gateway.default)) {
      problems.push(`the default flow of ${gateway.id} is not one of its outgoing flows`);
    }
    for (const flow of out) {
      if (flow !== gateway.default && !flow.conditionExpression) {
        problems.push(`${flow.id} leaves exclusive gateway ${gateway.id} without a condition and is not its default`);
      }
    }
  }

  const lanes = (proc.laneSets ?? []).flatMap((s) => s.lanes ?? []);
  if (lanes.length === 0) problems.push('the process has no laneSet with lanes');
  for (const node of nodes) {
    const holders = lanes.filter((l) => (l.flowNodeRef ?? []).includes(node));
    if (holders.length !== 1) {
      problems.push(`flow node ${node.id} is in ${holders.length} lanes, not 1`);
    }
  }

  const diagrams = definitions.diagrams ?? [];
  if (diagrams.length !== 1) {
    problems.push(`expected 1 BPMNDiagram, found ${diagrams.length}`);
    return { nodes: nodes.length, flows: flows.length };
  }
  const plane = diagrams[0].plane;
  if (plane.bpmnElement !== collaboration) {
    problems.push('the BPMNPlane does not show the collaboration');
  }
  const drawn = new Map();
  for (const di of plane.planeElement ?? []) {
    if (!di.bpmnElement) {
      problems.push(`${di.id} shows no element`);
      continue;
    }
    if (drawn.has(di.bpmnElement)) problems.push(`${di.bpmnElement.id} is drawn twice`);
    drawn.set(di.bpmnElement, di);
    if (di.$type === 'bpmndi:BPMNShape') {
      const b = di.bounds;
      if (!b || !(b.width > 0) || !(b.height > 0)) problems.push(`${di.id} has no bounds`);
    } else if (di.$type === 'bpmndi:BPMNEdge') {
      if ((di.waypoint ?? []).length < 2) problems.push(`${di.id} has fewer than 2 waypoints`);
    }
  }
  const expectShape = (element, what) => {
    const di = drawn.get(element);
    if (!di || di.$type !== 'bpmndi:BPMNShape') problems.push(`${what} ${element.id} has no BPMNShape`);
  };
  participants.forEach((p) => expectShape(p, 'participant'));
  lanes.forEach((l) => expectShape(l, 'lane'));
  nodes.forEach((n) => expectShape(n, 'flow node'));
  for (const flow of flows) {
    const di = drawn.get(flow);
    if (!di || di.$type !== 'bpmndi:BPMNEdge') problems.push(`sequenceFlow ${flow.id} has no BPMNEdge`);
  }
  return { nodes: nodes.length, flows: flows.length };
}

/** Loads the file in bpmn-engine and compares what it found with the model. */
async function checkEngine(file, xml, counts, problems) {
  const engine = new Engine({ name: file, source: xml });
  const definitions = await engine.getDefinitions();
  const processes = definitions.flatMap((d) => d.getProcesses());
  if (processes.length !== 1) {
    problems.push(`bpmn-engine: expected 1 process, found ${processes.length}`);
    return;
  }
  if (!counts) return;
  const activities = processes[0].getActivities().length;
  const flows = processes[0].getSequenceFlows().length;
  if (activities !== counts.nodes) {
    problems.push(`bpmn-engine: found ${activities} activities, the model has ${counts.nodes} flow nodes`);
  }
  if (flows !== counts.flows) {
    problems.push(`bpmn-engine: found ${flows} sequence flows, the model has ${counts.flows}`);
  }
}
