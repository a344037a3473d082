import {
  create,
  createRegistry,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescMethodBiDiStreaming,
  type DescService,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import {
  file_grpc_reflection_v1_reflection,
  type ServerReflectionRequest as ServerReflectionRequestV1,
  type ServerReflectionResponseSchema,
  ServerReflection as ServerReflectionV1,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  file_grpc_reflection_v1alpha_reflection,
  type ServerReflectionRequest as ServerReflectionRequestV1alpha,
  ServerReflection as ServerReflectionV1alpha,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** The two versions' messages have the same fields; only their package differs. */
type ReflectionRequest = ServerReflectionRequestV1 | ServerReflectionRequestV1alpha;
type Answer = NonNullable<
  MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]
>;

/**
 * Serves gRPC server reflection (`grpc.reflection.v1` and `v1alpha`, the older one for clients
 * such as older grpcurl) for the given files and their imports, so grpcurl and `buf curl` work
 * without the proto files. It lists the services declared in `files` plus its own two, and
 * resolves files, symbols (types, fields, enum values, services, methods) and extensions.
 * A request it cannot answer gets an `error_response` (NOT_FOUND) and the stream goes on.
 *
 * @example
 * connectNodeAdapter({
 *   routes: (router) => {
 *     router.service(ProfileApi, handlers);
 *     registerReflection(router, [file_realchat_profile_v1_profile_api, file_health_v1_health]);
 *   },
 * });
 */
export function registerReflection(router: ConnectRouter, files: readonly DescFile[]): void {
  const reflection = [file_grpc_reflection_v1_reflection, file_grpc_reflection_v1alpha_reflection];
  const answer = createReflector([...files, ...reflection]);
  for (const service of [ServerReflectionV1, ServerReflectionV1alpha]) {
    // Typed loosely so that one implementation serves both versions.
    const method: DescMethodBiDiStreaming = service.method.serverReflectionInfo;
    router.rpc(method, async function* (requests) {
      // Files this stream has already received: the protocol lets us not send them again.
      const sent = new Set<string>();
      for await (const message of requests) {
        // Safe: Connect decoded the message with `method.input`, one of the two request schemas.
        const request = message as ReflectionRequest;
        yield create(method.output, {
          validHost: request.host,
          originalRequest: request,
          messageResponse: answer(request.messageRequest, sent),
        });
      }
    });
  }
}

/** Indexes the files and their imports once; answers each request from the indexes. */
function createReflector(roots: readonly DescFile[]) {
  const files = new Map<string, DescFile>();
  const addWithImports = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(addWithImports);
  };
  roots.forEach(addWithImports);
  const registry = createRegistry(...files.values());

  // Every fully qualified name, members included (`pkg.Service.Method`, `pkg.Message.field`).
  const symbols = new Map<string, DescFile>();
  for (const type of registry) {
    symbols.set(type.typeName, type.file);
    for (const member of memberNames(type)) symbols.set(member, type.file);
  }

  const services = [...new Set(roots)]
    .flatMap((file) => file.services)
    .map((service) => ({ name: service.typeName }));
  const encoded = new Map<DescFile, Uint8Array>();
  const encode = (file: DescFile): Uint8Array => {
    let bytes = encoded.get(file);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file, bytes);
    }
    return bytes;
  };

  /** The file itself (always), then its imports, each once, skipping those already `sent`. */
  const fileWithImports = (file: DescFile | undefined, sent: Set<string>, what: string): Answer => {
    if (file === undefined) return notFound(what);
    const fileDescriptorProto: Uint8Array[] = [];
    const add = (next: DescFile): void => {
      sent.add(next.proto.name);
      fileDescriptorProto.push(encode(next));
      for (const dependency of next.dependencies) {
        if (!sent.has(dependency.proto.name)) add(dependency);
      }
    };
    add(file);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto } };
  };

  return (request: ReflectionRequest["messageRequest"], sent: Set<string>): Answer => {
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: services } };
      case "fileByFilename":
        return fileWithImports(files.get(request.value), sent, `file ${request.value}`);
      case "fileContainingSymbol":
        return fileWithImports(symbols.get(request.value), sent, `symbol ${request.value}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        const extendee = registry.getMessage(containingType);
        const extension = extendee && registry.getExtensionFor(extendee, extensionNumber);
        const what = `extension ${extensionNumber} of ${containingType}`;
        return fileWithImports(extension?.file, sent, what);
      }
      case "allExtensionNumbersOfType": {
        // As grpc-go: a known message without extensions has an empty list; an unknown one fails.
        if (registry.getMessage(request.value) === undefined) {
          return notFound(`message type ${request.value}`);
        }
        const extensionNumber = [...registry]
          .flatMap((type) =>
            type.kind === "extension" && type.extendee.typeName === request.value
              ? [type.number]
              : [],
          )
          .sort((a, b) => a - b);
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: request.value, extensionNumber },
        };
      }
      default:
        return {
          case: "errorResponse",
          value: { errorCode: Code.InvalidArgument, errorMessage: "empty message_request" },
        };
    }
  };
}

/** The names of a type's members, which file_containing_symbol accepts as well. */
function memberNames(type: DescMessage | DescEnum | DescExtension | DescService): string[] {
  switch (type.kind) {
    case "message":
      return [...type.fields, ...type.oneofs].map((member) => `${type.typeName}.${member.name}`);
    case "service":
      return type.methods.map((method) => `${type.typeName}.${method.name}`);
    case "enum": {
      // Enum values are siblings of their enum (C++ scoping), not its children.
      const scope = type.typeName.slice(0, type.typeName.lastIndexOf(".") + 1);
      return type.values.map((value) => `${scope}${value.name}`);
    }
    case "extension":
      return [];
  }
}

function notFound(what: string): Answer {
  return {
    case: "errorResponse",
    value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
  };
}
