// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Wrapped Monero (wXMR), minted by t-of-n Conclave guardian signatures, burned back to Monero.
/// @notice Amounts are piconero (12 decimals) everywhere: balances, limits, caps and the minimum burn
///         (wPOKT wrote its limits in 18-decimal units for a 6-decimal token; there is one unit here).
///         The rules and the incidents behind each are in docs/bridge.md.
contract WrappedMonero is ERC20, EIP712 {
    /// @notice What t guardians of set `setIndex` sign for one mint (EIP-712 type `Mint`).
    struct Mint {
        address recipient;
        uint256 amount;
        bytes32 depositId;
        uint64 deadline;
        uint32 setIndex;
    }

    /// @notice Limits, all in piconero (or seconds): set at deploy and by t signatures (`setLimits`).
    ///         Stored narrower (see the storage layout): rateCapacity, ratePerSecond and
    ///         singleMintCap at most 2^72 - 1 piconero, mintDelay at most 2^32 - 1 seconds.
    struct Limits {
        uint96 rateCapacity; // leaky bucket size
        uint96 ratePerSecond; // bucket refill
        uint96 singleMintCap; // a mint above this waits `mintDelay` seconds, cancellable
        uint64 mintDelay;
        uint96 minBurn;
    }

    /// @notice What became of a deposit id. `Used` is a mint done or queued (a queued one has a
    ///         `pending` record until it is executed); `Cancelled` a queued mint a guardian cancelled
    ///         within its delay: it never mints, and the federation's guardians read it (at a block of
    ///         their confirmation depth) to return the value of the mint it signed (docs/bridge.md).
    enum DepositState {
        Unused,
        Used,
        Cancelled
    }

    /// @notice `depositStatus` as one number: what a guardian reads at its depth block.
    uint8 public constant DEPOSIT_UNUSED = 0;
    uint8 public constant DEPOSIT_MINTED = 1;
    uint8 public constant DEPOSIT_QUEUED = 2;
    uint8 public constant DEPOSIT_CANCELLED = 3;

    /// @notice A mint above the single-mint cap, waiting for its delay.
    struct Pending {
        address recipient;
        uint64 executeAfter;
        uint256 amount;
    }

    bytes32 public constant MINT_TYPEHASH =
        keccak256("Mint(address recipient,uint256 amount,bytes32 depositId,uint64 deadline,uint32 setIndex)");
    bytes32 public constant ROTATE_TYPEHASH = keccak256("Rotate(address[] guardians,uint8 threshold,uint32 setIndex)");
    bytes32 public constant PAUSE_TYPEHASH = keccak256("Pause(uint64 nonce)");
    bytes32 public constant UNPAUSE_TYPEHASH = keccak256("Unpause(uint64 nonce)");
    bytes32 public constant CANCEL_TYPEHASH = keccak256("Cancel(bytes32 depositId)");
    bytes32 public constant SET_LIMITS_TYPEHASH =
        keccak256(
            "SetLimits(uint96 rateCapacity,uint96 ratePerSecond,uint96 singleMintCap,uint64 mintDelay,uint96 minBurn,uint64 nonce)"
        );

    /// @notice Guardians per set: the threshold is a uint8, so a set has at most 255 members.
    uint256 public constant GUARDIANS_MAX = 255;

    /// @notice Seconds the previous set stays valid for mints after a rotation.
    uint64 public immutable gracePeriod;

    // Storage layout (solc packs in declaration order; each cold slot read costs 2,100 gas): a mint
    // reads the first slot and the second, and writes the second; a burn reads the first and the
    // third and writes the first. Hence the narrow types: amounts up to 2^72 - 1 piconero (4.7e9
    // XMR), times in uint40 seconds, the delay in uint32 seconds (setLimits checks the ranges; the
    // ABI keeps the wider types).
    bool public paused;
    uint32 private _setIndex;
    uint40 private _previousSetValidUntil;
    uint8 private _currentThreshold; // == _threshold[_setIndex]
    uint32 private _mintDelay;
    uint64 public burnCount;
    uint72 private _rateCapacity;

    uint72 private _singleMintCap;
    uint72 private _bucketLevel; // the bucket's level at `_bucketUpdated`
    uint40 private _bucketUpdated;
    uint72 private _ratePerSecond;

    uint96 private _minBurn;

    mapping(uint32 => address[]) private _guardians;
    mapping(uint32 => uint8) private _threshold;
    mapping(uint32 => mapping(address => bool)) public isGuardian;

    /// @notice Every deposit id ever minted, queued or cancelled: never usable again.
    mapping(bytes32 => DepositState) private _depositState;
    mapping(bytes32 => Pending) public pending;
    mapping(uint64 => bool) public pauseNonceUsed;
    mapping(uint64 => bool) public unpauseNonceUsed;
    mapping(uint64 => bool) public limitsNonceUsed;

    event Minted(bytes32 indexed depositId, address indexed recipient, uint256 amount);
    event MintDelayed(bytes32 indexed depositId, address indexed recipient, uint256 amount, uint64 executeAfter);
    event MintCancelled(bytes32 indexed depositId);
    /// @notice kind 0: destination is a Monero address (ASCII); kind 1: a 32-byte claim key.
    event Burned(uint64 indexed burnId, address indexed from, uint256 amount, uint8 kind, bytes destination);
    event GuardianSetRotated(uint32 indexed setIndex, address[] guardians, uint8 threshold);
    event PausedBy(address indexed guardian);
    event Unpaused(uint64 nonce);
    event LimitsSet(Limits limits);

    error Paused();
    error NotPaused();
    error Expired();
    error ZeroDepositId();
    error ZeroAmount();
    error ZeroRecipient();
    error DepositUsed(bytes32 depositId);
    error UnknownSet(uint32 setIndex);
    error SetExpired(uint32 setIndex);
    error NotEnoughSignatures(uint256 got, uint256 need);
    error SignerNotGuardian(address signer);
    error DuplicateSigner(address signer);
    error SignersNotAscending();
    error NotGuardian(address caller);
    error RateLimited(uint256 available);
    error NoPendingMint(bytes32 depositId);
    error TooEarly(uint64 executeAfter);
    error CancelTooLate(uint64 executeAfter);
    error BurnTooSmall();
    error BadMoneroAddress();
    error BadClaimKey();
    error BadGuardianSet();
    error BadThreshold();
    error BadLimits();
    error NonceUsed(uint64 nonce);

    constructor(
        address[] memory guardians_,
        uint8 threshold_,
        Limits memory limits_,
        uint64 gracePeriod_
    ) ERC20("Wrapped Monero", "wXMR") EIP712("Conclave wXMR", "1") {
        if (gracePeriod_ > type(uint32).max) revert BadLimits();
        gracePeriod = gracePeriod_;
        // Set 0 never exists: a zeroed struct must not name a valid set (Nomad's zero root).
        _installSet(1, guardians_, threshold_);
        _setIndex = 1;
        _currentThreshold = threshold_;
        _setLimits(limits_);
        _bucketLevel = uint72(limits_.rateCapacity);
        _bucketUpdated = uint40(block.timestamp);
    }

    // ---------------------------------------------------------------- ERC-20

    function decimals() public pure override returns (uint8) {
        return 12;
    }

    // ---------------------------------------------------------------- mint

    /// @notice Mints `m.amount` to `m.recipient` with t signatures of set `m.setIndex`; anyone may call.
    ///         Above the single-mint cap the mint is queued for `mintDelay` seconds instead.
    function mint(Mint calldata m, bytes[] calldata signatures) external {
        if (paused) revert Paused();
        if (m.deadline < block.timestamp) revert Expired();
        if (m.depositId == bytes32(0)) revert ZeroDepositId();
        if (_depositState[m.depositId] != DepositState.Unused) revert DepositUsed(m.depositId);
        if (m.amount == 0) revert ZeroAmount();
        if (m.recipient == address(0)) revert ZeroRecipient();
        _requireMintSet(m.setIndex);
        _verify(_hashTypedDataV4(keccak256(abi.encode(MINT_TYPEHASH, m))), m.setIndex, signatures);

        // Marked before anything else happens (no external calls here, but the rule stays).
        _depositState[m.depositId] = DepositState.Used;
        if (m.amount > _singleMintCap) {
            uint64 executeAfter = uint64(block.timestamp) + _mintDelay;
            pending[m.depositId] = Pending(m.recipient, executeAfter, m.amount);
            emit MintDelayed(m.depositId, m.recipient, m.amount, executeAfter);
            return;
        }
        _consumeRate(m.amount);
        _mint(m.recipient, m.amount);
        emit Minted(m.depositId, m.recipient, m.amount);
    }

    /// @notice Completes a queued mint after its delay; anyone may call. It is not limited by the
    ///         bucket (it waited `mintDelay` with any one guardian able to cancel it) but drains it:
    ///         takes its amount, or what is left if less, so immediate mints then wait for the refill.
    function executeDelayed(bytes32 depositId) external {
        if (paused) revert Paused();
        Pending memory p = pending[depositId];
        if (p.recipient == address(0)) revert NoPendingMint(depositId);
        if (block.timestamp < p.executeAfter) revert TooEarly(p.executeAfter);
        delete pending[depositId];
        _drainRate(p.amount);
        _mint(p.recipient, p.amount);
        emit Minted(depositId, p.recipient, p.amount);
    }

    /// @notice Whether a deposit id was ever minted, queued or cancelled (then no mint takes it).
    function depositUsed(bytes32 depositId) external view returns (bool) {
        return _depositState[depositId] != DepositState.Unused;
    }

    /// @notice DEPOSIT_UNUSED, DEPOSIT_MINTED, DEPOSIT_QUEUED (with the time it may execute from, and
    ///         until which it may be cancelled) or DEPOSIT_CANCELLED. Past its deadline an unused id
    ///         stays unused, and a queued one at or past `executeAfter` can only be executed: read at
    ///         a block with such a timestamp, only a queued mint within its delay can still change.
    function depositStatus(bytes32 depositId) external view returns (uint8 status, uint64 executeAfter) {
        DepositState s = _depositState[depositId];
        if (s == DepositState.Unused) return (DEPOSIT_UNUSED, 0);
        if (s == DepositState.Cancelled) return (DEPOSIT_CANCELLED, 0);
        executeAfter = pending[depositId].executeAfter;
        return (executeAfter == 0 ? DEPOSIT_MINTED : DEPOSIT_QUEUED, executeAfter);
    }

    /// @notice Any guardian of the current set cancels a queued mint within its delay (the deposit id
    ///         stays used, as cancelled).
    function cancelDelayed(bytes32 depositId) external {
        if (!isGuardian[_setIndex][msg.sender]) revert NotGuardian(msg.sender);
        _cancel(depositId);
    }

    /// @notice The same with one current guardian's signature over `Cancel(depositId)`, sent by anyone.
    function cancelDelayedSigned(bytes32 depositId, bytes calldata signature) external {
        address signer = ECDSA.recoverCalldata(_hashTypedDataV4(keccak256(abi.encode(CANCEL_TYPEHASH, depositId))), signature);
        if (!isGuardian[_setIndex][signer]) revert SignerNotGuardian(signer);
        _cancel(depositId);
    }

    // ---------------------------------------------------------------- burn

    /// @notice Burns `amount` for a payout to `moneroAddress` (95 or 106 base58 characters: a
    ///         standard or integrated address; the federation checks checksum and network and
    ///         refunds an invalid one).
    function burn(uint256 amount, string calldata moneroAddress) external returns (uint64 burnId) {
        bytes calldata a = bytes(moneroAddress);
        if ((a.length != 95 && a.length != 106) || !_isBase58(a)) revert BadMoneroAddress();
        return _burnFor(amount, 0, a);
    }

    /// @notice Burns `amount` into e-cash that the holder of `claimKey` redeems from the federation.
    function burnToClaim(uint256 amount, bytes32 claimKey) external returns (uint64 burnId) {
        if (claimKey == bytes32(0)) revert BadClaimKey();
        return _burnFor(amount, 1, abi.encodePacked(claimKey));
    }

    /// @dev Hand-written in assembly: the same loop in Solidity (bounds check and byte extraction per
    ///      character) cost ~350 gas a character, 33k of an 80k burn; this reads 32 characters per
    ///      calldataload and tests each against the bitmap below.
    function _isBase58(bytes calldata a) private pure returns (bool ok) {
        uint256 bits = BASE58_ALPHABET_BITS;
        assembly ("memory-safe") {
            ok := 1
            let end := add(a.offset, a.length)
            for {
                let p := a.offset
            } lt(p, end) {
                p := add(p, 32)
            } {
                let word := calldataload(p)
                let n := sub(end, p)
                if gt(n, 32) {
                    n := 32
                }
                for {
                    let i := 0
                } lt(i, n) {
                    i := add(i, 1)
                } {
                    ok := and(ok, shr(byte(i, word), bits))
                }
            }
            ok := and(ok, 1)
        }
    }

    // Bit c is set for each base58 character c ("1-9", "A-H", "J-N", "P-Z", "a-k", "m-z"); computed
    // and checked against the alphabet in packages/evm/src/wrapped-monero.test.ts. A byte >= 128
    // shifts every bit out, so it reads as 0 (rejected).
    uint256 private constant BASE58_ALPHABET_BITS = 0x7ffeffe07ff7dfe03fe000000000000;

    // ---------------------------------------------------------------- guardian set

    /// @notice Until when (unix seconds) the previous set may still mint.
    function previousSetValidUntil() external view returns (uint64) {
        return _previousSetValidUntil;
    }

    function setIndex() external view returns (uint32) {
        return _setIndex;
    }

    function guardians(uint32 index) external view returns (address[] memory) {
        return _guardians[index];
    }

    function threshold(uint32 index) external view returns (uint8) {
        return _threshold[index];
    }

    function limits() external view returns (Limits memory) {
        return Limits(_rateCapacity, _ratePerSecond, _singleMintCap, _mintDelay, _minBurn);
    }

    /// @notice The bucket's level now (what one mint may take).
    function rateAvailable() public view returns (uint256 available) {
        uint256 capacity = _rateCapacity;
        unchecked {
            // < 2^72 + 2^40 * 2^72: cannot overflow; the chain's time never goes back.
            available = uint256(_bucketLevel) + (block.timestamp - uint256(_bucketUpdated)) * uint256(_ratePerSecond);
        }
        // min(available, capacity) without a branch: a mint's gas must not depend on whether the
        // bucket is full, which changes from one second to the next, or a transaction sent with the
        // exact gas estimated a second earlier runs out of gas (seen on anvil through viem).
        assembly ("memory-safe") {
            available := xor(available, mul(xor(available, capacity), gt(available, capacity)))
        }
    }

    /// @notice Replaces the guardian set, signed by t of the current set over
    ///         `Rotate(guardians, threshold, setIndex + 1)`; the old set mints for `gracePeriod` more.
    function rotate(address[] calldata newGuardians, uint8 newThreshold, bytes[] calldata signatures) external {
        uint32 current = _setIndex;
        uint32 next = current + 1;
        bytes32 structHash = keccak256(
            abi.encode(ROTATE_TYPEHASH, keccak256(abi.encodePacked(newGuardians)), newThreshold, next)
        );
        _verify(_hashTypedDataV4(structHash), current, signatures);
        _installSet(next, newGuardians, newThreshold);
        _setIndex = next;
        _currentThreshold = newThreshold;
        _previousSetValidUntil = uint40(block.timestamp + gracePeriod);
        emit GuardianSetRotated(next, newGuardians, newThreshold);
    }

    /// @notice New limits, signed by t of the current set with a never-used nonce.
    function setLimits(Limits calldata l, uint64 nonce, bytes[] calldata signatures) external {
        if (limitsNonceUsed[nonce]) revert NonceUsed(nonce);
        bytes32 structHash = keccak256(
            abi.encode(
                SET_LIMITS_TYPEHASH,
                l.rateCapacity,
                l.ratePerSecond,
                l.singleMintCap,
                l.mintDelay,
                l.minBurn,
                nonce
            )
        );
        _verify(_hashTypedDataV4(structHash), _setIndex, signatures);
        limitsNonceUsed[nonce] = true;
        // Settle the bucket under the old rate before the new one applies.
        uint256 level = rateAvailable();
        _setLimits(l);
        _bucketLevel = uint72(level > l.rateCapacity ? l.rateCapacity : level);
        _bucketUpdated = uint40(block.timestamp);
    }

    // ---------------------------------------------------------------- pause

    /// @notice Any one guardian of the current set stops mints and burns.
    function pause() external {
        if (!isGuardian[_setIndex][msg.sender]) revert NotGuardian(msg.sender);
        _pause(msg.sender);
    }

    /// @notice The same with one current guardian's signature over `Pause(nonce)`, sent by anyone.
    function pauseSigned(uint64 nonce, bytes calldata signature) external {
        if (pauseNonceUsed[nonce]) revert NonceUsed(nonce);
        address signer = ECDSA.recoverCalldata(_hashTypedDataV4(keccak256(abi.encode(PAUSE_TYPEHASH, nonce))), signature);
        if (!isGuardian[_setIndex][signer]) revert SignerNotGuardian(signer);
        pauseNonceUsed[nonce] = true;
        _pause(signer);
    }

    /// @notice t signatures of the current set over `Unpause(nonce)`; a nonce works once.
    function unpause(uint64 nonce, bytes[] calldata signatures) external {
        if (!paused) revert NotPaused();
        if (unpauseNonceUsed[nonce]) revert NonceUsed(nonce);
        _verify(_hashTypedDataV4(keccak256(abi.encode(UNPAUSE_TYPEHASH, nonce))), _setIndex, signatures);
        unpauseNonceUsed[nonce] = true;
        paused = false;
        emit Unpaused(nonce);
    }

    // ---------------------------------------------------------------- internals

    /// @dev Every signature must recover (OZ ECDSA: no malleable s, no invalid v, never address(0))
    ///      to a member of `index`, in strictly ascending address order, so none counts twice.
    function _verify(bytes32 digest, uint32 index, bytes[] calldata signatures) private view {
        uint256 need = index == _setIndex ? _currentThreshold : _threshold[index];
        if (need == 0) revert UnknownSet(index);
        if (signatures.length < need) revert NotEnoughSignatures(signatures.length, need);
        mapping(address => bool) storage members = isGuardian[index];
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recoverCalldata(digest, signatures[i]);
            if (signer == previous) revert DuplicateSigner(signer);
            if (signer < previous) revert SignersNotAscending();
            if (!members[signer]) revert SignerNotGuardian(signer);
            previous = signer;
        }
    }

    function _requireMintSet(uint32 index) private view {
        uint32 current = _setIndex;
        if (index == current) return;
        if (index == 0 || index > current) revert UnknownSet(index);
        if (index + 1 < current || block.timestamp > _previousSetValidUntil) revert SetExpired(index);
    }

    function _installSet(uint32 index, address[] memory members, uint8 t) private {
        if (members.length == 0 || members.length > GUARDIANS_MAX) revert BadGuardianSet();
        if (t == 0 || t > members.length) revert BadThreshold();
        address previous = address(0);
        for (uint256 i = 0; i < members.length; ++i) {
            // Strictly ascending from 0: no zero member, no duplicate.
            if (members[i] <= previous) revert BadGuardianSet();
            isGuardian[index][members[i]] = true;
            previous = members[i];
        }
        _guardians[index] = members;
        _threshold[index] = t;
    }

    function _setLimits(Limits memory l) private {
        // A mint at or under the cap must fit an empty-then-refilled bucket, or it could never run.
        if (
            l.rateCapacity == 0 ||
            l.ratePerSecond == 0 ||
            l.singleMintCap > l.rateCapacity ||
            l.minBurn == 0 ||
            l.rateCapacity > type(uint72).max ||
            l.ratePerSecond > type(uint72).max ||
            l.mintDelay > type(uint32).max
        ) {
            revert BadLimits();
        }
        _rateCapacity = uint72(l.rateCapacity);
        _ratePerSecond = uint72(l.ratePerSecond);
        _singleMintCap = uint72(l.singleMintCap);
        _mintDelay = uint32(l.mintDelay);
        _minBurn = l.minBurn;
        emit LimitsSet(l);
    }

    function _consumeRate(uint256 amount) private {
        uint256 available = rateAvailable();
        if (amount > available) revert RateLimited(available);
        _bucketLevel = uint72(available - amount);
        _bucketUpdated = uint40(block.timestamp);
    }

    /// @dev The bucket less min(amount, available), never reverting. Branch-free for the reason
    ///      given in rateAvailable: whether the bucket covers the amount changes with time.
    function _drainRate(uint256 amount) private {
        uint256 available = rateAvailable();
        uint256 taken;
        assembly ("memory-safe") {
            taken := xor(amount, mul(xor(amount, available), gt(amount, available)))
        }
        _bucketLevel = uint72(available - taken);
        _bucketUpdated = uint40(block.timestamp);
    }

    /// @dev Only within the delay: from `executeAfter` on anyone may execute the mint, so a later
    ///      cancel would protect nothing, and a queued mint past its delay must be as final for the
    ///      guardians' expiry votes as an executed one (docs/bridge.md, threat-model row 12z).
    function _cancel(bytes32 depositId) private {
        Pending memory p = pending[depositId];
        if (p.recipient == address(0)) revert NoPendingMint(depositId);
        if (block.timestamp >= p.executeAfter) revert CancelTooLate(p.executeAfter);
        delete pending[depositId];
        _depositState[depositId] = DepositState.Cancelled;
        emit MintCancelled(depositId);
    }

    function _pause(address guardian) private {
        if (paused) revert Paused();
        paused = true;
        emit PausedBy(guardian);
    }

    function _burnFor(uint256 amount, uint8 kind, bytes memory destination) private returns (uint64 burnId) {
        if (paused) revert Paused();
        if (amount < _minBurn) revert BurnTooSmall();
        _burn(msg.sender, amount);
        burnId = ++burnCount;
        emit Burned(burnId, msg.sender, amount, kind, destination);
    }
}
